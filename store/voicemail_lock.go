package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Mailbox lockout kinds: a mailbox being guessed, or a phone guessing.
const (
	LockMailbox = "mailbox" // key: the mailbox extension's row ID, in decimal
	LockPhone   = "phone"   // key: the calling phone's extension row ID, in decimal
)

// MailboxTx is one *97/*98 PIN attempt in progress: the lockout checks,
// the failure count and the audit row commit together, in the same write
// transaction hot desking uses (and its audit log).
type MailboxTx struct{ *HotdeskTx }

// MailboxTx runs fn in one write transaction and commits if it returns nil.
func (db *DB) MailboxTx(ctx context.Context, fn func(tx *MailboxTx) error) error {
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error { return fn(&MailboxTx{tx}) })
}

// LockedUntil returns when key's lockout ends; the zero time if none.
func (tx *MailboxTx) LockedUntil(kind, key string) (time.Time, error) {
	var until int64
	err := tx.tx.QueryRowContext(tx.ctx, `SELECT until FROM voicemail_locks WHERE kind = ? AND key = ?`, kind, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(until), nil
}

// AddFailure records a failed attempt against key and returns how many
// key has had in the window ending at at, this one included.
func (tx *MailboxTx) AddFailure(kind, key string, at time.Time, window time.Duration) (int, error) {
	from := at.Add(-window).UnixMilli()
	if _, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM voicemail_failures WHERE kind = ? AND key = ? AND at <= ?`, kind, key, from); err != nil {
		return 0, err
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO voicemail_failures (kind, key, at) VALUES (?, ?, ?)`, kind, key, at.UnixMilli()); err != nil {
		return 0, err
	}
	var n int
	err := tx.tx.QueryRowContext(tx.ctx, `SELECT count(*) FROM voicemail_failures WHERE kind = ? AND key = ?`, kind, key).Scan(&n)
	return n, err
}

// Lock locks key out until until; its failures start afresh after.
func (tx *MailboxTx) Lock(kind, key string, until time.Time) error {
	if _, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO voicemail_locks (kind, key, until) VALUES (?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET until = excluded.until`, kind, key, until.UnixMilli()); err != nil {
		return err
	}
	return tx.ClearFailures(kind, key)
}

// ClearFailures forgets key's failed attempts (after a right PIN).
func (tx *MailboxTx) ClearFailures(kind, key string) error {
	_, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM voicemail_failures WHERE kind = ? AND key = ?`, kind, key)
	return err
}
