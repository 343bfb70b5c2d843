package admin

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"
	"time"

	"deskpbx/store"
)

// HotDesk is the hot-desk service as the admin page uses it.
// (Being wired: the hotdesk package is landing.)
type HotDesk interface {
	TenantSettings(ctx context.Context, tenantID int64) (TenantHotDesk, error)
}

// TenantHotDesk is a tenant's hot-desk settings.
type TenantHotDesk struct {
	Login, Logout   bool
	AutoLogoutAt    string
	AutoLogoutAfter time.Duration
}

// Seat is one hot-desk session: who sits where.
type Seat struct {
	Person, PersonName, Device string
	Since                      time.Time
}

func (s *Server) checkTenantHotDesk(TenantHotDesk) invalid { return nil }

func (s *Server) setTenantHotDesk(ctx context.Context, a *store.Admin, t *store.Tenant, hd TenantHotDesk) error {
	return nil
}

func parseTenantHotDeskForm(f *form) (TenantHotDesk, invalid) { return TenantHotDesk{}, nil }

func formatAfter(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

func (s *Server) seats(ctx context.Context, a *store.Admin) ([]Seat, error) { return nil, nil }

func (s *Server) hotdeskPage(w http.ResponseWriter, r *http.Request)        { s.notFound(w, r) }
func (s *Server) hotdeskNewPage(w http.ResponseWriter, r *http.Request)     { s.notFound(w, r) }
func (s *Server) hotdeskCreate(w http.ResponseWriter, r *http.Request)      { s.notFound(w, r) }
func (s *Server) hotdeskLogoutAll(w http.ResponseWriter, r *http.Request)   { s.notFound(w, r) }
func (s *Server) hotdeskEditPage(w http.ResponseWriter, r *http.Request)    { s.notFound(w, r) }
func (s *Server) hotdeskUpdate(w http.ResponseWriter, r *http.Request)      { s.notFound(w, r) }
func (s *Server) hotdeskDelete(w http.ResponseWriter, r *http.Request)      { s.notFound(w, r) }
func (s *Server) hotdeskForceLogout(w http.ResponseWriter, r *http.Request) { s.notFound(w, r) }
func (s *Server) hotdeskUnlock(w http.ResponseWriter, r *http.Request)      { s.notFound(w, r) }
func (s *Server) auditPage(w http.ResponseWriter, r *http.Request)          { s.notFound(w, r) }

func (s *Server) hotdeskAPIRoutes(r chi.Router) {}

func parseTenantHotDesk(login, logout bool, at, after string) (TenantHotDesk, invalid) {
	return TenantHotDesk{}, nil
}

func afterText(d time.Duration) string { return formatAfter(d) }
