package main

import (
	"context"
	"log/slog"

	"deskpbx/pbx"
	"deskpbx/store"
)

// auditCallEvents writes pbx's transfers and pickups to the audit log,
// one entry each, under the tenant of the person who did it.
func auditCallEvents(db *store.DB, log *slog.Logger) func(context.Context, pbx.Handover) {
	return func(ctx context.Context, e pbx.Handover) {
		outcome := "ok"
		if !e.OK {
			outcome = "failed"
			if e.Status != "" {
				outcome = "failed " + e.Status
			}
		}
		a := store.AuditEntry{TenantID: e.By.TenantID, SeatTenantID: e.Phone.TenantID, Actor: e.Phone.AOR(),
			Action: e.Kind, Person: e.By.AOR(), Seat: e.Phone.AOR(), Source: e.Source, Outcome: outcome,
			Detail: e.Party + " -> " + e.To + " (Call-ID " + e.CallID + ")"}
		if err := db.RecordAudit(ctx, a); err != nil {
			log.Error("audit of a call event", "kind", e.Kind, "err", err)
		}
	}
}
