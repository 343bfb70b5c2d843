package hotdesk

import (
	"context"

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
