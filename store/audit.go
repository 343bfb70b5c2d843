package store

import "context"

// RecordAudit appends one entry to the audit log, for admin changes (an
// extension added, an admin removed...) whose own store call does not
// write one in its transaction.
func (db *DB) RecordAudit(ctx context.Context, a AuditEntry) error {
	if a.At.IsZero() {
		a.At = db.Now()
	}
	if a.SeatTenantID == 0 {
		a.SeatTenantID = a.TenantID
	}
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error { return tx.Audit(a) })
}
