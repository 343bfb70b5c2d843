package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// The JSON API under /api/v1 offers the page's operations with the same
// role and tenant checks. It authenticates with bearer tokens only and
// never looks at cookies: a browser cannot be tricked into sending a
// bearer token, so there is nothing for CSRF to forge.
func (s *Server) apiRoutes(r chi.Router) {
	r.Use(s.requireToken)
	r.Get("/me", s.apiMe)
	r.Get("/tenants", s.apiTenants)
	r.Post("/tenants", s.apiTenantCreate)
	r.Get("/tenants/{id}", s.apiTenant)
	r.Patch("/tenants/{id}", s.apiTenantUpdate)
	r.Delete("/tenants/{id}", s.apiTenantDelete)
	r.Get("/extensions", s.apiExtensions)
	r.Post("/extensions", s.apiExtensionCreate)
	r.Post("/extensions/import", s.apiImport)
	r.Get("/extensions/export", s.apiExport)
	r.Get("/extensions/{id}", s.apiExtension)
	r.Patch("/extensions/{id}", s.apiExtensionUpdate)
	r.Delete("/extensions/{id}", s.apiExtensionDelete)
	r.Get("/registrations", s.apiRegistrations)
	r.Get("/calls", s.apiCalls)
	r.Delete("/calls/{id}", s.apiHangup)
	r.Get("/admins", s.apiAdmins)
	r.Post("/admins", s.apiAdminCreate)
	r.Delete("/admins/{id}", s.apiAdminDelete)
	s.hotdeskAPIRoutes(r)
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

type apiErrorBody struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields,omitempty"`
}

func apiError(w http.ResponseWriter, status int, code, msg, field string) {
	body := apiErrorBody{Error: msg, Code: code}
	if field != "" {
		body.Fields = map[string]string{field: msg}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// statusOf maps an application error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case store.ENOTFOUND:
		return http.StatusNotFound
	case store.EINVALID:
		return http.StatusUnprocessableEntity
	case store.ECONFLICT:
		return http.StatusConflict
	case store.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var inv invalid
	if errors.As(err, &inv) {
		fields := map[string]string{}
		for k, v := range inv {
			if k != "" {
				fields[k] = v
			}
		}
		writeJSON(w, http.StatusUnprocessableEntity, apiErrorBody{Error: inv.Error(), Code: store.EINVALID, Fields: fields})
		return
	}
	code := store.ErrorCode(err)
	if code == store.EINTERNAL {
		s.log.Error("admin API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		apiError(w, http.StatusInternalServerError, code, "internal error; the server log has the details", "")
		return
	}
	apiError(w, statusOf(code), code, err.Error(), "")
}

// decode reads a JSON body strictly: a misspelt field is an error, not
// a silently ignored change.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalid{"": "invalid JSON body: " + err.Error()}
	}
	return nil
}

func apiID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, ok := idParam(r)
	if !ok {
		apiError(w, http.StatusNotFound, store.ENOTFOUND, "not found", "")
	}
	return id, ok
}

type apiAdmin struct {
	ID       int64     `json:"id"`
	Username string    `json:"username"`
	Role     string    `json:"role"`
	TenantID int64     `json:"tenant_id,omitempty"`
	Domain   string    `json:"domain,omitempty"`
	Created  time.Time `json:"created_at"`
}

func toAPIAdmin(a *store.Admin) apiAdmin {
	return apiAdmin{ID: a.ID, Username: a.Username, Role: a.Role(), TenantID: a.TenantID, Domain: a.Domain, Created: a.CreatedAt}
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, toAPIAdmin(whoFrom(r.Context()).admin))
}

type apiTenant struct {
	ID            int64            `json:"id"`
	Domain        string           `json:"domain"`
	Default       bool             `json:"default"`
	HasCompanyPIN bool             `json:"has_company_pin"`
	Extensions    int              `json:"extensions"`
	Created       time.Time        `json:"created_at"`
	HotDesk       apiTenantHotDesk `json:"hotdesk"`
}

type apiTenantHotDesk struct {
	Login           bool   `json:"login"`
	Logout          bool   `json:"logout"`
	AutoLogoutAt    string `json:"autologout_at"`
	AutoLogoutAfter string `json:"autologout_after"`
}

func toAPITenant(row tenantRow) apiTenant {
	return apiTenant{ID: row.ID, Domain: row.Domain, Default: row.Default, HasCompanyPIN: row.HasCompanyPIN, Extensions: row.Extensions,
		Created: row.CreatedAt, HotDesk: apiTenantHotDesk{Login: row.HotdeskLogin, Logout: row.HotdeskLogout,
			AutoLogoutAt: row.AutologoutAt, AutoLogoutAfter: formatAfter(row.AutologoutAfter)}}
}

func (s *Server) apiTenants(w http.ResponseWriter, r *http.Request) {
	rows, err := s.tenantRows(r, whoFrom(r.Context()).admin)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiTenant, len(rows))
	for i, row := range rows {
		out[i] = toAPITenant(row)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiTenantRow(r *http.Request, id int64) (tenantRow, error) {
	rows, err := s.tenantRows(r, whoFrom(r.Context()).admin)
	if err != nil {
		return tenantRow{}, err
	}
	for _, row := range rows {
		if row.ID == id {
			return row, nil
		}
	}
	return tenantRow{}, notFound("tenant")
}

func (s *Server) apiTenant(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	row, err := s.apiTenantRow(r, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAPITenant(row))
}

func (s *Server) apiTenantCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	var in struct {
		Domain     string `json:"domain"`
		CompanyPIN string `json:"company_pin"`
		Default    bool   `json:"default"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	t, err := s.createTenant(r.Context(), me.admin, tenantInput{Domain: in.Domain, CompanyPIN: in.CompanyPIN, Default: in.Default})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.log.Info("tenant added", "admin", me.admin.Username, "tenant", t.Domain, "via", "api")
	row, err := s.apiTenantRow(r, t.ID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAPITenant(row))
}

func (s *Server) apiTenantUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	// Visibility first: a tenant admin probing another tenant's ID gets
	// 404 whatever the body says.
	if _, err := s.tenantFor(r.Context(), me.admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	var in struct {
		CompanyPIN *string `json:"company_pin"`
		Default    bool    `json:"default"`
		HotDesk    *struct {
			Login           *bool   `json:"login"`
			Logout          *bool   `json:"logout"`
			AutoLogoutAt    *string `json:"autologout_at"`
			AutoLogoutAfter *string `json:"autologout_after"`
		} `json:"hotdesk"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	ch := tenantChange{CompanyPIN: in.CompanyPIN, Default: in.Default}
	if in.HotDesk != nil {
		hd, bad := parseTenantHotdesk(in.HotDesk.Login, in.HotDesk.Logout, in.HotDesk.AutoLogoutAt, in.HotDesk.AutoLogoutAfter)
		if len(bad) > 0 {
			s.apiFail(w, r, bad)
			return
		}
		ch.Hotdesk = &hd
	}
	if _, err := s.updateTenant(r.Context(), me.admin, id, ch); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.apiTenant(w, r)
}

func (s *Server) apiTenantDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	if err := s.deleteTenant(r.Context(), me.admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.log.Info("tenant deleted", "admin", me.admin.Username, "tenant_id", id, "via", "api")
	w.WriteHeader(http.StatusNoContent)
}

type apiExtension struct {
	ID         int64     `json:"id"`
	TenantID   int64     `json:"tenant_id"`
	Domain     string    `json:"domain"`
	Number     string    `json:"number"`
	Name       string    `json:"name"`
	HasPIN     bool      `json:"has_pin"`
	Registered int       `json:"registered"`
	Created    time.Time `json:"created_at"`
}

func (s *Server) toAPIExtension(e *store.Extension, registered map[int64]int) apiExtension {
	return apiExtension{ID: e.ID, TenantID: e.TenantID, Domain: e.Domain, Number: e.Number, Name: e.DisplayName,
		HasPIN: e.PINHash != "", Registered: registered[e.ID], Created: e.CreatedAt}
}

func (s *Server) registeredCounts() map[int64]int {
	out := map[int64]int{}
	for _, b := range s.pbx.Location().All() {
		out[b.ExtensionID]++
	}
	return out
}

func (s *Server) apiExtensions(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	tenantID, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	exts, err := s.db.Extensions(r.Context(), tenantID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	reg := s.registeredCounts()
	out := make([]apiExtension, len(exts))
	for i, e := range exts {
		out[i] = s.toAPIExtension(e, reg)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiExtension(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	e, err := s.extensionFor(r.Context(), whoFrom(r.Context()).admin, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAPIExtension(e, s.registeredCounts()))
}

func (s *Server) apiExtensionCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	var in struct {
		TenantID int64  `json:"tenant_id"`
		Domain   string `json:"domain"`
		Number   string `json:"number"`
		Password string `json:"password"`
		PIN      string `json:"pin"`
		Name     string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	e, err := s.createExtension(r.Context(), me.admin, extensionInput(in))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.log.Info("extension added", "admin", me.admin.Username, "extension", e.AOR(), "via", "api")
	writeJSON(w, http.StatusCreated, s.toAPIExtension(e, nil))
}

func (s *Server) apiExtensionUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	if _, err := s.extensionFor(r.Context(), me.admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	var in struct {
		Name     *string `json:"name"`
		Password string  `json:"password"`
		PIN      string  `json:"pin"`
		ClearPIN bool    `json:"clear_pin"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	e, err := s.updateExtension(r.Context(), me.admin, id, extensionChange(in))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.log.Info("extension changed", "admin", me.admin.Username, "extension", e.AOR(), "via", "api")
	writeJSON(w, http.StatusOK, s.toAPIExtension(e, s.registeredCounts()))
}

func (s *Server) apiExtensionDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	if err := s.deleteExtension(r.Context(), me.admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.log.Info("extension deleted", "admin", me.admin.Username, "extension_id", id, "via", "api")
	w.WriteHeader(http.StatusNoContent)
}

// apiImport takes the CSV file as the request body (Content-Type text/csv).
func (s *Server) apiImport(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	n, err := s.importCSV(r.Context(), me.admin, r.Body)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"imported": n})
}

func (s *Server) apiExport(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	tenantID, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	if err := s.exportCSV(r.Context(), tenantID, w); err != nil {
		s.log.Error("exporting extensions", "err", err)
	}
}

type apiRegistration struct {
	ExtensionID int64     `json:"extension_id"`
	AOR         string    `json:"aor"`
	Contact     string    `json:"contact"`
	Source      string    `json:"source"`
	Transport   string    `json:"transport"`
	UserAgent   string    `json:"user_agent"`
	Expires     time.Time `json:"expires_at"`
	ExpiresIn   int       `json:"expires_in"`
}

func (s *Server) apiRegistrations(w http.ResponseWriter, r *http.Request) {
	regs, err := s.registrations(r.Context(), whoFrom(r.Context()).admin)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiRegistration, len(regs))
	now := s.db.Now()
	for i, g := range regs {
		out[i] = apiRegistration{ExtensionID: g.ExtensionID, AOR: g.AOR, Contact: g.Contact, Source: g.Source, Transport: g.Transport,
			UserAgent: g.UserAgent, Expires: g.Expires, ExpiresIn: int(g.Expires.Sub(now).Seconds())}
	}
	writeJSON(w, http.StatusOK, out)
}

type apiCall struct {
	ID       string     `json:"id"`
	From     string     `json:"from"`
	As       string     `json:"as"`
	To       string     `json:"to"`
	Started  time.Time  `json:"started_at"`
	Answered *time.Time `json:"answered_at,omitempty"`
}

func (s *Server) apiCalls(w http.ResponseWriter, r *http.Request) {
	calls := s.calls(whoFrom(r.Context()).admin)
	out := make([]apiCall, len(calls))
	for i, c := range calls {
		out[i] = apiCall{ID: c.ID, From: c.Caller, As: c.As, To: c.Callee, Started: c.Started}
		if !c.Answered.IsZero() {
			t := c.Answered
			out[i].Answered = &t
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// apiHangup takes the call's ID from the calls list (an opaque handle,
// not its Call-ID), path-escaped.
func (s *Server) apiHangup(w http.ResponseWriter, r *http.Request) {
	id, err := url.PathUnescape(chi.URLParam(r, "id"))
	if err != nil {
		apiError(w, http.StatusNotFound, store.ENOTFOUND, "no such call", "")
		return
	}
	if err := s.hangup(r.Context(), whoFrom(r.Context()).admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiAdmins(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	admins, err := s.db.Admins(r.Context(), me.admin.TenantID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiAdmin, len(admins))
	for i, a := range admins {
		out[i] = toAPIAdmin(a)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiAdminCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
		TenantID int64  `json:"tenant_id"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	a, err := s.createAdmin(r.Context(), me.admin, adminInput(in))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toAPIAdmin(a))
}

func (s *Server) apiAdminDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok {
		return
	}
	if err := s.deleteAdmin(r.Context(), whoFrom(r.Context()).admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
