package store

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Budget is an allowance of failed guesses: Limit failures of (Kind, Key)
// within Window lock it for LockFor. Hot desking (*072/*073) and
// voicemail (*97/*98) count every refusal against budgets of this one
// shape, each in its own tables.
type Budget struct {
	Kind, Key       string
	Limit           int
	Window, LockFor time.Duration
}

// SecretBudgetKey names the budget of one login secret, shared by every
// hot-desk ID that logs in with it (a company PIN: all of a tenant's), so
// spreading guesses over IDs does not multiply them. It is derived from
// the stored hash, so setting a new PIN starts a new budget. Budgets that
// many IDs share are kept under kind LockID with keys that are never all
// digits, as IDs are: no migration of the tables' CHECK is needed.
func SecretBudgetKey(secretHash string) string {
	sum := sha256.Sum256([]byte(secretHash))
	return "secret:" + hex.EncodeToString(sum[:8])
}

// TenantBudgetKey names the budget of failed hot-desk logins of a whole
// tenant (kind LockID, as SecretBudgetKey).
func TenantBudgetKey(tenantID int64) string { return "tenant:" + strconv.FormatInt(tenantID, 10) }

// IDClashBudgetKey names the budget of a tenant's admins' offers of other
// tenants' hot-desk IDs (kind LockID, as SecretBudgetKey). Its failures
// are kept IDClashWindow, longer than the logins' window.
func IDClashBudgetKey(tenantID int64) string { return "id-clash:" + strconv.FormatInt(tenantID, 10) }

// IDClashWindow is how long an ID clash counts.
const IDClashWindow = 24 * time.Hour

// lockTables names the failure and lockout tables of one feature.
type lockTables struct{ failures, locks string }

var (
	hotdeskLocks = lockTables{"hotdesk_failures", "hotdesk_locks"}
	mailboxLocks = lockTables{"voicemail_failures", "voicemail_locks"}
)

func (lt lockTables) lockedUntil(tx *HotdeskTx, kind, key string) (time.Time, error) {
	var until int64
	err := tx.tx.QueryRowContext(tx.ctx, `SELECT until FROM `+lt.locks+` WHERE kind = ? AND key = ?`, kind, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(until), nil
}

func (lt lockTables) addFailure(tx *HotdeskTx, kind, key string, at time.Time, window time.Duration) (int, error) {
	// Older failures can never count again: forget them here, for this
	// key, rather than let the table grow between sweeps.
	from := at.Add(-window).UnixMilli()
	if _, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM `+lt.failures+` WHERE kind = ? AND key = ? AND at <= ?`, kind, key, from); err != nil {
		return 0, err
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO `+lt.failures+` (kind, key, at) VALUES (?, ?, ?)`, kind, key, at.UnixMilli()); err != nil {
		return 0, err
	}
	var n int
	err := tx.tx.QueryRowContext(tx.ctx, `SELECT count(*) FROM `+lt.failures+` WHERE kind = ? AND key = ? AND at > ?`, kind, key, from).Scan(&n)
	return n, err
}

func (lt lockTables) lock(tx *HotdeskTx, kind, key string, until time.Time) error {
	if _, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO `+lt.locks+` (kind, key, until) VALUES (?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET until = excluded.until`, kind, key, until.UnixMilli()); err != nil {
		return err
	}
	return lt.clear(tx, kind, key)
}

func (lt lockTables) clear(tx *HotdeskTx, kind, key string) error {
	_, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM `+lt.failures+` WHERE kind = ? AND key = ?`, kind, key)
	return err
}

// charge counts one failure against b at at and locks b's key once it
// has had b.Limit in the window. It returns the failures counted and the
// end of the lockout it began, zero if it began none.
func (lt lockTables) charge(tx *HotdeskTx, b Budget, at time.Time) (int, time.Time, error) {
	n, err := lt.addFailure(tx, b.Kind, b.Key, at, b.Window)
	if err != nil || n < b.Limit {
		return n, time.Time{}, err
	}
	until := at.Add(b.LockFor)
	return n, until, lt.lock(tx, b.Kind, b.Key, until)
}
