package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"deskpbx/store"
)

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	live, err := s.liveData(r.Context(), me, -1)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboard", &page{Title: "Dashboard", Nav: "dashboard", D: live})
}

type tenantRow struct {
	*store.Tenant
	Extensions int
}

type tenantsData struct {
	Tenants []tenantRow
	Form    *form
}

func (s *Server) tenantRows(r *http.Request, a *store.Admin) ([]tenantRow, error) {
	ts, err := s.tenantsFor(r.Context(), a)
	if err != nil {
		return nil, err
	}
	counts, err := s.db.ExtensionCounts(r.Context())
	if err != nil {
		return nil, err
	}
	rows := make([]tenantRow, len(ts))
	for i, t := range ts {
		rows[i] = tenantRow{Tenant: t, Extensions: counts[t.ID]}
	}
	return rows, nil
}

func (s *Server) tenantsPage(w http.ResponseWriter, r *http.Request) {
	s.renderTenants(w, r, newForm(nil), http.StatusOK)
}

func (s *Server) renderTenants(w http.ResponseWriter, r *http.Request, f *form, status int) {
	me := whoFrom(r.Context())
	rows, err := s.tenantRows(r, me.admin)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "tenants", &page{Title: "Tenants", Nav: "tenants", D: tenantsData{Tenants: rows, Form: f}})
}

func (s *Server) tenantCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	t, err := s.createTenant(r.Context(), me.admin, tenantInput{Domain: f.Values["domain"], CompanyPIN: f.Values["company_pin"], Default: f.Values["default"] != ""})
	if err != nil {
		if store.ErrorCode(err) == EFORBIDDEN {
			s.notFound(w, r)
			return
		}
		if f.apply(err) {
			s.renderTenants(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	s.log.Info("tenant added", "admin", me.admin.Username, "tenant", t.Domain)
	redirect(w, r, "/tenants", "Tenant "+t.Domain+" added.")
}

type tenantData struct {
	Tenant tenantRow
	Form   *form
}

func (s *Server) tenantPage(w http.ResponseWriter, r *http.Request) {
	s.renderTenant(w, r, nil, http.StatusOK)
}

func (s *Server) renderTenant(w http.ResponseWriter, r *http.Request, f *form, status int) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	t, err := s.tenantFor(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	counts, err := s.db.ExtensionCounts(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	row := tenantRow{Tenant: t, Extensions: counts[t.ID]}
	if f == nil {
		f = newForm(nil).set("hotdesk_login", boolValue(t.HotdeskLogin), "hotdesk_logout", boolValue(t.HotdeskLogout),
			"autologout_at", t.AutologoutAt, "autologout_after", formatAfter(t.AutologoutAfter))
	}
	s.render(w, r, status, "tenant", &page{Title: "Tenant " + t.Domain, Nav: "tenants", D: tenantData{Tenant: row, Form: f}})
}

func boolValue(b bool) string {
	if b {
		return "on"
	}
	return ""
}

func (s *Server) tenantUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	f := newForm(r)
	var ch tenantChange
	switch {
	case f.Values["clear_pin"] != "":
		empty := ""
		ch.CompanyPIN = &empty
	case f.Values["company_pin"] != "":
		pin := f.Values["company_pin"]
		ch.CompanyPIN = &pin
	}
	ch.Default = f.Values["default"] != ""
	if f.Values["hotdesk_settings"] != "" {
		login, logout := f.Values["hotdesk_login"] != "", f.Values["hotdesk_logout"] != ""
		at, after := f.Values["autologout_at"], f.Values["autologout_after"]
		hd, bad := parseTenantHotdesk(&login, &logout, &at, &after)
		if len(bad) > 0 {
			for k, v := range bad {
				f.Errors[k] = v
			}
			f.Message = "Please correct the marked fields."
			s.renderTenant(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		ch.Hotdesk = &hd
	}
	t, err := s.updateTenant(r.Context(), me.admin, id, ch)
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderTenant(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	s.log.Info("tenant changed", "admin", me.admin.Username, "tenant", t.Domain)
	redirect(w, r, "/tenants/"+strconv.FormatInt(t.ID, 10), "Tenant "+t.Domain+" saved.")
}

func (s *Server) tenantDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	t, err := s.tenantFor(r.Context(), me.admin, id)
	if err == nil {
		err = s.deleteTenant(r.Context(), me.admin, id)
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.log.Info("tenant deleted", "admin", me.admin.Username, "tenant", t.Domain)
	redirect(w, r, "/tenants", "Tenant "+t.Domain+" deleted, with its extensions.")
}

type extensionRow struct {
	*store.Extension
	Registered int
}

type extensionsData struct {
	Extensions []extensionRow
	Tenants    []*store.Tenant
	TenantID   int64
	Query      string
}

// tenantParam reads ?tenant=ID; garbage reads as "all".
func tenantParam(r *http.Request) int64 {
	id, _ := strconv.ParseInt(r.URL.Query().Get("tenant"), 10, 64)
	return id
}

func (s *Server) extensionsPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	tenantID, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	exts, err := s.db.Extensions(r.Context(), tenantID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	registered := map[int64]int{}
	for _, b := range s.pbx.Bindings() {
		registered[b.ExtensionID]++
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	data := extensionsData{TenantID: tenantParam(r), Query: q}
	for _, e := range exts {
		if q != "" && !strings.Contains(e.Number, q) && !strings.Contains(strings.ToLower(e.DisplayName), strings.ToLower(q)) {
			continue
		}
		data.Extensions = append(data.Extensions, extensionRow{Extension: e, Registered: registered[e.ID]})
	}
	if me.admin.System() {
		if data.Tenants, err = s.db.Tenants(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "extensions", &page{Title: "Extensions", Nav: "extensions", D: data})
}

type extensionFormData struct {
	Extension *store.Extension // nil when adding
	Tenants   []*store.Tenant
	Form      *form
}

func (s *Server) extensionNewPage(w http.ResponseWriter, r *http.Request) {
	f := newForm(nil)
	if t := r.URL.Query().Get("tenant"); t != "" {
		f.Values["tenant"] = t
	}
	s.renderExtensionForm(w, r, nil, f, http.StatusOK)
}

func (s *Server) renderExtensionForm(w http.ResponseWriter, r *http.Request, e *store.Extension, f *form, status int) {
	me := whoFrom(r.Context())
	ts, err := s.tenantsFor(r.Context(), me.admin)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	title := "Add an extension"
	if e != nil {
		title = "Extension " + e.AOR()
	}
	s.render(w, r, status, "extension", &page{Title: title, Nav: "extensions", D: extensionFormData{Extension: e, Tenants: ts, Form: f}})
}

func (s *Server) extensionCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	tenantID, _ := strconv.ParseInt(f.Values["tenant"], 10, 64)
	e, err := s.createExtension(r.Context(), me.admin, extensionInput{TenantID: tenantID, Number: f.Values["number"],
		Password: f.Values["password"], PIN: f.Values["pin"], Name: f.Values["name"]})
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderExtensionForm(w, r, nil, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	s.log.Info("extension added", "admin", me.admin.Username, "extension", e.AOR())
	redirect(w, r, fmt.Sprintf("/extensions?tenant=%d", e.TenantID), "Extension "+e.AOR()+" added.")
}

func (s *Server) extensionPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	e, err := s.extensionFor(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.renderExtensionForm(w, r, e, newForm(nil).set("name", e.DisplayName), http.StatusOK)
}

func (s *Server) extensionUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	e, err := s.extensionFor(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	f := newForm(r)
	name := f.Values["name"]
	e2, err := s.updateExtension(r.Context(), me.admin, id, extensionChange{Name: &name, Password: f.Values["password"],
		PIN: f.Values["pin"], ClearPIN: f.Values["clear_pin"] != ""})
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderExtensionForm(w, r, e, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	s.log.Info("extension changed", "admin", me.admin.Username, "extension", e2.AOR(),
		"password_changed", f.Values["password"] != "", "pin_changed", f.Values["pin"] != "" || f.Values["clear_pin"] != "")
	redirect(w, r, fmt.Sprintf("/extensions?tenant=%d", e2.TenantID), "Extension "+e2.AOR()+" saved.")
}

func (s *Server) extensionDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	e, err := s.extensionFor(r.Context(), me.admin, id)
	if err == nil {
		err = s.deleteExtension(r.Context(), me.admin, id)
	}
	if err != nil {
		s.failed(w, r, err)
		return
	}
	s.log.Info("extension deleted", "admin", me.admin.Username, "extension", e.AOR())
	redirect(w, r, fmt.Sprintf("/extensions?tenant=%d", e.TenantID), "Extension "+e.AOR()+" deleted.")
}

type importData struct {
	Form   *form
	Header string
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "import", &page{Title: "Import extensions", Nav: "extensions", D: importData{Form: newForm(nil), Header: store.ExtensionsCSVHeader}})
}

func (s *Server) importExtensions(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	in := strings.NewReader(f.Values["csv"])
	if file, _, err := r.FormFile("file"); err == nil {
		defer file.Close()
		n, err := s.importCSV(r.Context(), me.admin, file)
		s.afterImport(w, r, f, n, err)
		return
	}
	n, err := s.importCSV(r.Context(), me.admin, in)
	s.afterImport(w, r, f, n, err)
}

func (s *Server) afterImport(w http.ResponseWriter, r *http.Request, f *form, n int, err error) {
	if err != nil {
		if f.apply(err) {
			if msg, ok := f.Errors["file"]; ok {
				// The message is about the pasted text too.
				f.Errors["csv"] = msg
			}
			s.render(w, r, http.StatusUnprocessableEntity, "import", &page{Title: "Import extensions", Nav: "extensions", D: importData{Form: f, Header: store.ExtensionsCSVHeader}})
			return
		}
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/extensions", fmt.Sprintf("Imported %d extensions.", n))
}

func (s *Server) exportExtensions(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	tenantID, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
	if err != nil {
		s.failed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="extensions.csv"`)
	if err := s.exportCSV(r.Context(), tenantID, w); err != nil {
		s.log.Error("exporting extensions", "err", err)
	}
}

func (s *Server) registrationsPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	live, err := s.liveData(r.Context(), me, -1)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "registrations", &page{Title: "Registrations", Nav: "registrations", D: live})
}

func (s *Server) callsPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	live, err := s.liveData(r.Context(), me, -1)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "calls", &page{Title: "Active calls", Nav: "calls", D: live})
}

func (s *Server) callHangup(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id := r.PostFormValue("id")
	if err := s.hangup(r.Context(), me.admin, id); err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			// The call may simply have ended meanwhile.
			redirect(w, r, "/calls", "That call has already ended.")
			return
		}
		s.failed(w, r, err)
		return
	}
	redirect(w, r, safeNext(r.PostFormValue("next")), "Call hung up.")
}

type adminsData struct {
	Admins  []*store.Admin
	Tenants []*store.Tenant
	Form    *form
}

func (s *Server) adminsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAdmins(w, r, newForm(nil), http.StatusOK)
}

func (s *Server) renderAdmins(w http.ResponseWriter, r *http.Request, f *form, status int) {
	me := whoFrom(r.Context())
	admins, err := s.db.Admins(r.Context(), me.admin.TenantID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	ts, err := s.tenantsFor(r.Context(), me.admin)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "admins", &page{Title: "Admins", Nav: "admins", D: adminsData{Admins: admins, Tenants: ts, Form: f}})
}

func (s *Server) adminCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	tenantID, _ := strconv.ParseInt(f.Values["tenant"], 10, 64)
	na, err := s.createAdmin(r.Context(), me.admin, adminInput{Username: f.Values["username"], Password: f.Values["password"], TenantID: tenantID})
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderAdmins(w, r, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/admins", "Admin "+na.Username+" added.")
}

func (s *Server) adminDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.deleteAdmin(r.Context(), me.admin, id); err != nil {
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/admins", "Admin deleted.")
}

type accountData struct {
	Tokens       []*store.APIToken
	PasswordForm *form
	TokenForm    *form
	NewToken     string // shown once, right after creation
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	s.renderAccount(w, r, accountData{PasswordForm: newForm(nil), TokenForm: newForm(nil)}, http.StatusOK)
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, d accountData, status int) {
	me := whoFrom(r.Context())
	var err error
	if d.Tokens, err = s.db.APITokens(r.Context(), me.admin.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, status, "account", &page{Title: "Your account", Nav: "account", D: d})
}

func (s *Server) accountPassword(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	bad := invalid{}
	if _, err := s.db.AuthenticateAdmin(r.Context(), me.admin.Username, f.Values["current"]); err != nil {
		if store.ErrorCode(err) != store.EUNAUTHORIZED {
			s.serverError(w, r, err)
			return
		}
		bad["current"] = "This is not your current password"
	}
	bad.check("password", store.ValidAdminPassword(f.Values["password"], me.admin.Username))
	if f.Values["password"] != f.Values["confirm"] {
		bad["confirm"] = "The two new passwords differ"
	}
	if len(bad) == 0 {
		if err := s.db.SetAdminPassword(r.Context(), me.admin.ID, f.Values["password"]); err != nil {
			s.serverError(w, r, err)
			return
		}
		// Changing the password ended every session, this one too: start a
		// fresh one so whoever changed it stays logged in, alone.
		if err := s.startSession(w, r, me.admin); err != nil {
			s.serverError(w, r, err)
			return
		}
		s.log.Info("admin changed password", "user", me.admin.Username)
		redirect(w, r, "/account", "Password changed. Other browsers logged in as you were logged out.")
		return
	}
	f.apply(bad)
	s.renderAccount(w, r, accountData{PasswordForm: f, TokenForm: newForm(nil)}, http.StatusUnprocessableEntity)
}

func (s *Server) tokenCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	f := newForm(r)
	token, _, err := s.db.CreateAPIToken(r.Context(), me.admin.ID, f.Values["name"])
	if err != nil {
		if store.ErrorCode(err) == store.EINVALID {
			f.Errors["name"] = upperFirst(err.Error())
			f.Message = "Please correct the marked fields."
			s.renderAccount(w, r, accountData{PasswordForm: newForm(nil), TokenForm: f}, http.StatusUnprocessableEntity)
			return
		}
		s.serverError(w, r, err)
		return
	}
	s.log.Info("API token created", "admin", me.admin.Username, "name", f.Values["name"])
	// Rendered, not redirected: the token must not travel in a cookie or
	// URL, and this is the only time it is shown.
	s.renderAccount(w, r, accountData{PasswordForm: newForm(nil), TokenForm: newForm(nil), NewToken: token}, http.StatusOK)
}

func (s *Server) tokenDelete(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok {
		s.notFound(w, r)
		return
	}
	if err := s.db.DeleteAPIToken(r.Context(), me.admin.ID, id); err != nil {
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/account", "Token revoked.")
}
