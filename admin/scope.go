package admin

import (
	"context"
	"strings"

	"deskpbx/store"
)

// The operations below are shared by the pages and the API. Each takes
// the admin asking and checks role and tenant itself: what a tenant admin
// may not see is reported as not found, exactly like what does not exist,
// so guessing IDs tells nothing.

// EFORBIDDEN is a refusal of something the admin can see but whose role
// does not allow the change (a tenant admin deleting its own tenant).
const EFORBIDDEN = "forbidden"

func notFound(what string) error { return store.Errorf(store.ENOTFOUND, "no such %s", what) }

func (s *Server) tenantFor(ctx context.Context, a *store.Admin, id int64) (*store.Tenant, error) {
	if !a.System() && a.TenantID != id {
		return nil, notFound("tenant")
	}
	return s.db.TenantByID(ctx, id)
}

func (s *Server) tenantsFor(ctx context.Context, a *store.Admin) ([]*store.Tenant, error) {
	if !a.System() {
		t, err := s.db.TenantByID(ctx, a.TenantID)
		if err != nil {
			return nil, err
		}
		return []*store.Tenant{t}, nil
	}
	return s.db.Tenants(ctx)
}

func (s *Server) extensionFor(ctx context.Context, a *store.Admin, id int64) (*store.Extension, error) {
	e, err := s.db.ExtensionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.System() && e.TenantID != a.TenantID {
		return nil, notFound("extension")
	}
	return e, nil
}

// scopeTenant is the tenant a listing is limited to: a tenant admin's
// own, or the one a system admin picked (0: all). A tenant admin naming
// another tenant gets not found.
func (s *Server) scopeTenant(ctx context.Context, a *store.Admin, requested int64) (int64, error) {
	if requested != 0 {
		if _, err := s.tenantFor(ctx, a, requested); err != nil {
			return 0, err
		}
		return requested, nil
	}
	return a.TenantID, nil
}

// resolveTenant finds the tenant an input names, within a's scope.
func (s *Server) resolveTenant(ctx context.Context, a *store.Admin, id int64, domain string) (*store.Tenant, error) {
	switch {
	case id != 0:
		return s.tenantFor(ctx, a, id)
	case domain != "":
		t, err := s.db.TenantByDomain(ctx, strings.TrimSpace(domain))
		if err != nil {
			return nil, notFound("tenant")
		}
		return s.tenantFor(ctx, a, t.ID)
	case !a.System():
		return s.db.TenantByID(ctx, a.TenantID)
	}
	return nil, invalid{"tenant": "Choose a tenant"}
}
