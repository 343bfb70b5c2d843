package hotdesk

import (
	"context"
	"strconv"
	"time"

	"deskpbx/store"
)

// The admin's side of hot desking: every change to who may hot-desk and
// how (entries, their passwords and dial string overrides, a tenant's
// switches) is made here, by the admin page and the CLI alike. Each is
// one transaction with its audit rows, queued behind this process's
// logins like every other hot-desk write.

// CreateEntry lets extension n.Number of n.Domain hot-desk with ID
// n.HotdeskID, with its own password and dial string override if given.
func (s *Service) CreateEntry(ctx context.Context, n store.NewHotdeskEntry, actor string) (*store.HotdeskEntry, error) {
	return serially(s, func() (*store.HotdeskEntry, error) { return s.db.CreateHotdeskEntry(ctx, n, actor) })
}

// UpdateEntry changes the entry with hot-desk ID id: its ID, description,
// own password and dial string override, all or nothing.
func (s *Service) UpdateEntry(ctx context.Context, id string, u store.HotdeskEntryUpdate, actor string) (*store.HotdeskEntry, error) {
	return serially(s, func() (*store.HotdeskEntry, error) { return s.db.UpdateHotdeskEntry(ctx, id, u, actor) })
}

// DeleteEntry stops the person with hot-desk ID id hot-desking; a live
// session ends with it.
func (s *Service) DeleteEntry(ctx context.Context, id, actor string) error {
	_, err := serially(s, func() (bool, error) { return true, s.db.DeleteHotdeskEntry(ctx, id, actor) })
	return err
}

// CreateTenant adds tenant domain, with its company PIN if pin is not
// empty, in one transaction with its audit row.
func (s *Service) CreateTenant(ctx context.Context, domain, pin string, makeDefault bool, actor string) (*store.Tenant, error) {
	return serially(s, func() (*store.Tenant, error) {
		return s.db.CreateTenant(store.WithActor(ctx, actor), domain, pin, makeDefault)
	})
}

// UpdateTenant changes tenant domain: its hot-desk settings (the company
// PIN, the *072 and *073 switches, auto-logout) and the default mark,
// all or nothing.
func (s *Service) UpdateTenant(ctx context.Context, domain string, u store.TenantUpdate, actor string) (*store.Tenant, error) {
	return serially(s, func() (*store.Tenant, error) { return s.db.UpdateTenant(ctx, domain, u, actor) })
}

// serially runs write queued behind this process's other hot-desk writes
// (see Service.writing).
func serially[T any](s *Service, write func() (T, error)) (T, error) {
	s.writing.Lock()
	defer s.writing.Unlock()
	return write()
}

// IDs are unique across tenants, so whether an ID can be given away
// tells a tenant's admin whether another tenant holds it. They are told
// only "in use", the same as for their own tenant's IDs, and each clash
// with another tenant's ID spends their tenant's IDClashes budget: once
// spent, every ID they offer gets that same answer for a day, so the
// answers can no longer be told apart, and the lockout is audited for
// the operator.
const IDClashes = 5

func idClashBudget(tenantID int64) store.Budget {
	return store.Budget{Kind: store.LockID, Key: store.IDClashBudgetKey(tenantID), Limit: IDClashes,
		Window: store.IDClashWindow, LockFor: 24 * time.Hour}
}

// IDChoiceLocked reports whether tenantID's admins have spent their
// IDClashes budget, so any hot-desk ID they offer must be refused as in use.
func (s *Service) IDChoiceLocked(ctx context.Context, tenantID int64) (bool, error) {
	var locked bool
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		b := idClashBudget(tenantID)
		until, err := tx.LockedUntil(b.Kind, b.Key)
		locked = until.After(s.Now())
		return err
	})
	return locked, err
}

// IDClashed counts a tenant admin's offer of another tenant's hot-desk ID
// against their tenant's IDClashes budget, and audits it.
func (s *Service) IDClashed(ctx context.Context, tenantID int64, actor string) error {
	return s.tx(ctx, func(tx *store.HotdeskTx) error {
		now := s.Now()
		n, until, err := tx.Charge(idClashBudget(tenantID), now)
		if err != nil {
			return err
		}
		row := store.AuditEntry{At: now, TenantID: tenantID, Actor: actor, Action: "admin-change", Outcome: "id-clash",
			Detail: "offered a hot-desk ID of another tenant (" + strconv.Itoa(n) + " of " + strconv.Itoa(IDClashes) + " allowed a day)"}
		if !until.IsZero() {
			row.Outcome = "id-clash-lockout"
			row.Detail += ": every ID this tenant's admins offer is refused until " + until.Format(time.DateTime)
			s.Log.Warn("hot-desk ID probing: tenant's admins locked out of choosing IDs", "tenant", tenantID, "actor", actor, "until", until)
		}
		return tx.Audit(row)
	})
}
