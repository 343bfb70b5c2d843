package store

import (
	"context"
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
	return mailboxLocks.lockedUntil(tx.HotdeskTx, kind, key)
}

// Charge counts a failure against b and locks it at its limit (see Budget).
func (tx *MailboxTx) Charge(b Budget, at time.Time) (failures int, lockedUntil time.Time, err error) {
	return mailboxLocks.charge(tx.HotdeskTx, b, at)
}

// ClearFailures forgets key's failed attempts (after a right PIN).
func (tx *MailboxTx) ClearFailures(kind, key string) error {
	return mailboxLocks.clear(tx.HotdeskTx, kind, key)
}

// AddFailure records a failed attempt against key and returns how many
// key has had in the window ending at at, this one included. (Declared
// here so the embedded HotdeskTx's, on hot desking's tables, is never
// reached through a MailboxTx.)
func (tx *MailboxTx) AddFailure(kind, key string, at time.Time, window time.Duration) (int, error) {
	return mailboxLocks.addFailure(tx.HotdeskTx, kind, key, at, window)
}

// Lock locks key out until until; its failures start afresh after.
func (tx *MailboxTx) Lock(kind, key string, until time.Time) error {
	return mailboxLocks.lock(tx.HotdeskTx, kind, key, until)
}
