package admin

import (
	"context"
	"time"

	"deskpbx/store"
)

// Outside lines on the dashboard: each trunk's state as the running
// server last wrote it, a warning for a tenant whose emergency calls
// cannot go out, and a banner for every recent emergency call.

// trunkRow is one trunk as the dashboard shows it (never its password).
type trunkRow struct {
	Tenant, Name, Host, State, Reason string
	Since                             time.Time
}

// emergencyRow is one emergency call of the last emergencyShown.
type emergencyRow struct {
	At                    time.Time
	Phone, Person, Detail string
}

// emergencyShown is how long an emergency call stays on the dashboard.
const emergencyShown = time.Hour

// outsideLines fills the trunk table, the tenants' warnings and the
// emergency banner of what admin a may see.
func (s *Server) outsideLines(ctx context.Context, a *store.Admin, v *liveView) error {
	scope := int64(0)
	if !a.System() {
		scope = a.TenantID
	}
	trunks, err := s.db.Trunks(ctx, scope)
	if err != nil {
		return err
	}
	working := map[int64]bool{}
	for _, k := range trunks {
		v.Trunks = append(v.Trunks, trunkRow{Tenant: k.Domain, Name: k.Name, Host: k.HostPort(), State: k.State, Reason: k.StateReason, Since: k.StateAt})
		working[k.TenantID] = working[k.TenantID] || k.State == store.TrunkRegistered || k.State == store.TrunkReachable
	}
	tenants, err := s.db.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if (scope == 0 || t.ID == scope) && !working[t.ID] {
			v.NoEmergency = append(v.NoEmergency, t.Domain)
		}
	}
	calls, _, err := s.db.AuditLog(ctx, store.AuditFilter{TenantID: scope, Action: "emergency_call",
		Since: s.db.Now().Add(-emergencyShown)}, 20)
	if err != nil {
		return err
	}
	for _, c := range calls {
		v.Emergencies = append(v.Emergencies, emergencyRow{At: c.At, Phone: c.Seat, Person: c.Person, Detail: c.Detail})
	}
	return nil
}
