package admin

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// The JSON API under /api/v1 offers the page's operations with the same
// role and tenant checks. It authenticates with bearer tokens only and
// never looks at cookies: a browser cannot be tricked into sending a
// bearer token, so there is nothing for CSRF to forge.
// The JSON API under /api/v1 offers the page's operations with the same
// role and tenant checks. It authenticates with bearer tokens only and
// never looks at cookies: a browser cannot be tricked into sending a
// bearer token, so there is nothing for CSRF to forge.
func (s *Server) apiRoutes(r chi.Router) {
	r.Use(s.requireToken, auditAs)
	r.Get("/me", s.api(s.apiMe))
	r.Get("/tenants", s.api(s.apiTenants))
	r.Post("/tenants", s.api(s.apiTenantCreate))
	r.Get("/tenants/{id}", s.api(s.apiTenant))
	r.Patch("/tenants/{id}", s.api(s.apiTenantUpdate))
	r.Delete("/tenants/{id}", s.api(s.apiTenantDelete))
	r.Get("/extensions", s.api(s.apiExtensions))
	r.Post("/extensions", s.api(s.apiExtensionCreate))
	r.Post("/extensions/import", s.api(s.apiImport))
	r.Get("/extensions/export", s.api(s.apiExport))
	r.Get("/extensions/{id}", s.api(s.apiExtension))
	r.Patch("/extensions/{id}", s.api(s.apiExtensionUpdate))
	r.Delete("/extensions/{id}", s.api(s.apiExtensionDelete))
	s.apiVoicemailRoutes(r)
	r.Get("/registrations", s.api(s.apiRegistrations))
	r.Get("/calls", s.api(s.apiCalls))
	r.Delete("/calls/{callid}", s.api(s.apiHangup))
	r.Get("/admins", s.api(s.apiAdmins))
	r.Post("/admins", s.api(s.apiAdminCreate))
	r.Delete("/admins/{id}", s.api(s.apiAdminDelete))
	r.Group(func(r chi.Router) {
		r.Use(s.needHotdesk)
		r.Get("/hotdesk", s.api(s.apiHotdeskList))
		r.Post("/hotdesk", s.api(s.apiHotdeskCreate))
		r.Get("/hotdesk/sessions", s.api(s.apiHotdeskSessions))
		r.Post("/hotdesk/logout-all", s.api(s.apiHotdeskLogoutAll))
		r.Get("/hotdesk/{id}", s.api(s.apiHotdeskGet))
		r.Patch("/hotdesk/{id}", s.api(s.apiHotdeskUpdate))
		r.Delete("/hotdesk/{id}", s.api(s.apiHotdeskDelete))
		r.Post("/hotdesk/{id}/logout", s.api(s.apiHotdeskLogout))
		r.Post("/hotdesk/{id}/unlock", s.api(s.apiHotdeskUnlock))
		r.Post("/hotdesk/seats/{id}/unlock", s.api(s.apiHotdeskSeatUnlock))
		r.Get("/audit", s.api(s.apiAudit))
	})
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusNotFound, store.ENOTFOUND, "not found", "")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		apiError(w, http.StatusMethodNotAllowed, store.EINVALID, "method not allowed", "")
	})
}

func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		auth := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskpbx"`)
			apiError(w, http.StatusUnauthorized, store.EUNAUTHORIZED, "an API token is required: Authorization: Bearer TOKEN (create one on the Account page)", "")
			return
		}
		a, err := s.db.AdminByAPIToken(r.Context(), strings.TrimSpace(token))
		if err != nil {
			if store.ErrorCode(err) == store.EUNAUTHORIZED {
				w.Header().Set("WWW-Authenticate", `Bearer realm="deskpbx", error="invalid_token"`)
				apiError(w, http.StatusUnauthorized, store.EUNAUTHORIZED, "invalid or revoked API token", "")
				return
			}
			s.apiFail(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, &who{admin: a})))
	})
}
