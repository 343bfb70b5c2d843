package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Lockout kinds: a hot-desk ID being guessed, or a seat guessing.
const (
	LockID   = "id"   // key: the hot-desk ID
	LockSeat = "seat" // key: the device extension's row ID, in decimal
)

// HotdeskTx is one hot-desk change in progress: every read and write of a
// login, logout or move happens in one of these, so the rules the hotdesk
// package applies see and leave a consistent database.
type HotdeskTx struct {
	db  *DB
	tx  *sql.Tx
	ctx context.Context
}

// HotdeskTx runs fn in one write transaction and commits if it returns
// nil. The write lock is taken at BEGIN (_txlock=immediate), so two
// logins for one ID from two phones run one after the other and the
// second sees what the first did.
func (db *DB) HotdeskTx(ctx context.Context, fn func(tx *HotdeskTx) error) error {
	sqlTx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	if err := fn(&HotdeskTx{db: db, tx: sqlTx.Tx, ctx: ctx}); err != nil {
		return err
	}
	return sqlTx.Commit()
}

// Tenant returns tenant id.
func (tx *HotdeskTx) Tenant(id int64) (*Tenant, error) {
	t, err := scanTenant(tx.tx.QueryRowContext(tx.ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	return t, err
}

// Entry returns the entry with hot-desk ID hotdeskID, of any tenant,
// without its live state (Seat, SeatedSince and LockedUntil are zero).
func (tx *HotdeskTx) Entry(hotdeskID string) (*HotdeskEntry, error) {
	return hotdeskEntryWhere(tx.ctx, tx.tx, hotdeskLoginQuery, hotdeskID)
}

// Seating returns, in one query, the session of person and the session
// at device (the same one when person sits there); nil where there is none.
func (tx *HotdeskTx) Seating(personID, deviceID int64) (ofPerson, atDevice *HotdeskSession, err error) {
	sessions, err := queryAll(tx.ctx, tx.tx, scanHotdeskSession, hotdeskSessionQuery+`WHERE s.person_id = ? OR s.device_id = ?`, personID, deviceID)
	for _, s := range sessions {
		if s.PersonID == personID {
			ofPerson = s
		}
		if s.DeviceID == deviceID {
			atDevice = s
		}
	}
	return ofPerson, atDevice, err
}

// SessionOf returns the person's session, or nil.
func (tx *HotdeskTx) SessionOf(personID int64) (*HotdeskSession, error) {
	return tx.session(`WHERE s.person_id = ?`, personID)
}

func (tx *HotdeskTx) session(where string, arg int64) (*HotdeskSession, error) {
	s, err := scanHotdeskSession(tx.tx.QueryRowContext(tx.ctx, hotdeskSessionQuery+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return s, err
}

// Sessions lists sessions as HotdeskSessions does.
func (tx *HotdeskTx) Sessions(tenantID int64) ([]*HotdeskSession, error) {
	return hotdeskSessions(tx.ctx, tx.tx, tenantID)
}

// StartSession seats person at device. It fails if either is taken:
// end those sessions first.
func (tx *HotdeskTx) StartSession(personID, deviceID int64, since time.Time, how, source string) error {
	_, err := tx.tx.ExecContext(tx.ctx, `INSERT INTO hotdesk_sessions (person_id, device_id, since, how, source) VALUES (?, ?, ?, ?, ?)`,
		personID, deviceID, since.UnixMilli(), how, source)
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return Errorf(ECONFLICT, "seat or person already in a session")
	}
	return err
}

// EndSession ends the person's session; false if there was none.
func (tx *HotdeskTx) EndSession(personID int64) (bool, error) {
	return tx.affected(`DELETE FROM hotdesk_sessions WHERE person_id = ?`, personID)
}

// EndSessionIf ends the person's session only if it is still the one
// seen (same device, same start), so a sweep decided outside the
// transaction never ends a login made meanwhile.
func (tx *HotdeskTx) EndSessionIf(s *HotdeskSession) (bool, error) {
	return tx.affected(`DELETE FROM hotdesk_sessions WHERE person_id = ? AND device_id = ? AND since = ?`,
		s.PersonID, s.DeviceID, s.Since.UnixMilli())
}

func (tx *HotdeskTx) affected(q string, args ...any) (bool, error) {
	res, err := tx.tx.ExecContext(tx.ctx, q, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// Audit appends a to the audit log.
func (tx *HotdeskTx) Audit(a AuditEntry) error {
	return insertAudit(tx.ctx, tx.tx, a)
}

// LockedUntil returns when the lockout of key ends; the zero time if it
// has none. The caller compares it with its own clock.
func (tx *HotdeskTx) LockedUntil(kind, key string) (time.Time, error) {
	return hotdeskLocks.lockedUntil(tx, kind, key)
}

// AddFailure records a failed attempt against key at at, and returns how
// many failures key has had in the window ending at at, this one included.
func (tx *HotdeskTx) AddFailure(kind, key string, at time.Time, window time.Duration) (int, error) {
	return hotdeskLocks.addFailure(tx, kind, key, at, window)
}

// Charge counts a failure against b and locks it at its limit (see Budget).
func (tx *HotdeskTx) Charge(b Budget, at time.Time) (failures int, lockedUntil time.Time, err error) {
	return hotdeskLocks.charge(tx, b, at)
}

// Lock locks key out until until and forgets its failures, so the count
// starts afresh when the lockout ends.
func (tx *HotdeskTx) Lock(kind, key string, until time.Time) error {
	return hotdeskLocks.lock(tx, kind, key, until)
}

// ClearFailures forgets key's failed attempts.
func (tx *HotdeskTx) ClearFailures(kind, key string) error {
	return hotdeskLocks.clear(tx, kind, key)
}

// Unlock lifts key's lockout and forgets its failures; false if
// it was not locked at now.
func (tx *HotdeskTx) Unlock(kind, key string, now time.Time) (bool, error) {
	until, err := tx.LockedUntil(kind, key)
	if err != nil {
		return false, err
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `DELETE FROM hotdesk_locks WHERE kind = ? AND key = ?`, kind, key); err != nil {
		return false, err
	}
	return until.After(now), tx.ClearFailures(kind, key)
}

// PruneHotdeskLockout forgets failures older than window and lockouts
// that ended, as of now, so the tables stay the size of current attacks.
func (db *DB) PruneHotdeskLockout(ctx context.Context, now time.Time, window time.Duration) error {
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		// The admins' ID clashes are counted over a day (IDClashBudgetKey).
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM hotdesk_failures WHERE at <= ? AND (key NOT LIKE 'id-clash:%' OR at <= ?)`,
			now.Add(-window).UnixMilli(), now.Add(-IDClashWindow).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, `DELETE FROM hotdesk_locks WHERE until <= ?`, now.UnixMilli())
		return err
	})
}

// isPrimaryKeyViolation: an INTEGER PRIMARY KEY clash is not reported as
// a UNIQUE one.
func isPrimaryKeyViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
}

// SeatLock is a phone locked out of *072 and *073 after too many wrong tries.
type SeatLock struct {
	Seat  *Extension // the phone's own registered extension
	Until time.Time
}

// LockedSeats lists the phones of tenantID (every tenant's when 0) whose
// lockout lasts beyond now, so an admin can see and lift them.
func (db *DB) LockedSeats(ctx context.Context, tenantID int64, now time.Time) ([]SeatLock, error) {
	scan := func(row scanner) (SeatLock, error) {
		var until int64
		e, err := scanExtension(scanWithTail{row, []any{&until}})
		return SeatLock{Seat: e, Until: time.UnixMilli(until)}, err
	}
	return queryAll(ctx, db.sql, scan, `SELECT `+extensionCols+`, l.until
		FROM hotdesk_locks l JOIN extensions e ON e.id = CAST(l.key AS INTEGER) JOIN tenants t ON t.id = e.tenant_id
		WHERE l.kind = 'seat' AND l.until > ? AND (? = 0 OR e.tenant_id = ?)
		ORDER BY t.domain, length(e.number), e.number`, now.UnixMilli(), tenantID, tenantID)
}
