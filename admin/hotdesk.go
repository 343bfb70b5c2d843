package admin

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// HotDesk is the hot-desk service, the one owner of every hot-desk
// write: the admin page reads hot-desk state from the database but
// changes it only through here. *hotdesk.Service is one.
type HotDesk interface {
	CreateEntry(ctx context.Context, n store.NewHotdeskEntry, actor string) (*store.HotdeskEntry, error)
	UpdateEntry(ctx context.Context, id string, u store.HotdeskEntryUpdate, actor string) (*store.HotdeskEntry, error)
	DeleteEntry(ctx context.Context, id, actor string) error
	SetTenantSettings(ctx context.Context, domain string, hs store.HotdeskSettings, actor string) (*store.Tenant, error)
	ForceLogout(ctx context.Context, id, actor string) (*store.HotdeskSession, error)
	ForceLogoutAll(ctx context.Context, tenantID int64, actor string) (int, error)
	Unlock(ctx context.Context, id, actor string) (bool, error)
	UnlockSeat(ctx context.Context, seat *store.Extension, actor string) (bool, error)
}

// actor is how an admin appears in the hot-desk audit log.
func actor(a *store.Admin) string { return "admin:" + a.Username }

// Seat is one hot-desk session: who sits where.
type Seat struct {
	Person, Device string // AORs
	Since          time.Time
	How            string
}

func (s *Server) seats(ctx context.Context, a *store.Admin) ([]Seat, error) {
	sessions, err := s.db.HotdeskSessions(ctx, a.TenantID)
	if err != nil {
		return nil, err
	}
	out := make([]Seat, len(sessions))
	for i, x := range sessions {
		out[i] = Seat{Person: x.Person, Device: x.Device, Since: x.Since, How: x.How}
	}
	return out, nil
}

// hotdeskRow is one line of the Hot Desking table.
type hotdeskRow struct {
	*store.HotdeskEntry
	Locked bool
}

func (s *Server) hotdeskRows(ctx context.Context, tenantID int64) ([]hotdeskRow, error) {
	entries, err := s.db.HotdeskEntries(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	now := s.db.Now()
	out := make([]hotdeskRow, len(entries))
	for i, e := range entries {
		out[i] = hotdeskRow{HotdeskEntry: e, Locked: e.Locked(now)}
	}
	return out, nil
}

// entryFor returns the hot-desk entry of extension id if a may see it.
func (s *Server) entryFor(ctx context.Context, a *store.Admin, extensionID int64) (*store.HotdeskEntry, error) {
	if _, err := s.extensionFor(ctx, a, extensionID); err != nil {
		return nil, err
	}
	return s.db.HotdeskEntryOf(ctx, extensionID)
}

type hotdeskInput struct {
	ExtensionID  int64
	HotdeskID    string
	PIN          string
	Description  string
	DialOverride string // AOR, "" for none
}

func checkDescription(d string) error {
	if !utf8.ValidString(d) {
		return store.Errorf(store.EINVALID, "description is not valid UTF-8")
	}
	if utf8.RuneCountInString(strings.TrimSpace(d)) > 200 {
		return store.Errorf(store.EINVALID, "description is longer than 200 characters")
	}
	for _, r := range d {
		if unicode.IsControl(r) {
			return store.Errorf(store.EINVALID, "description may not contain control characters")
		}
	}
	return nil
}

// checkDialOverride checks an override target as a's: a tenant admin may
// send calls only to its own tenant's extensions, and another tenant's
// reads as not existing.
func (s *Server) checkDialOverride(ctx context.Context, a *store.Admin, aor string) error {
	aor = strings.ToLower(strings.TrimSpace(aor))
	if aor == "" {
		return nil
	}
	number, domain, ok := strings.Cut(aor, "@")
	if !ok || store.ValidNumber(number) != nil || store.ValidDomain(domain) != nil {
		return store.Errorf(store.EINVALID, "dial string must be NUMBER@DOMAIN, e.g. 1002@%s", orDefault(a.Domain, "acme.example"))
	}
	t, err := s.db.TenantByDomain(ctx, domain)
	if err == nil && (a.System() || t.ID == a.TenantID) {
		if _, err = s.db.ExtensionByNumber(ctx, t.ID, number); err == nil {
			return nil
		}
	}
	return store.Errorf(store.EINVALID, "no extension %s", aor)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Server) createHotdesk(ctx context.Context, a *store.Admin, in hotdeskInput) (*store.HotdeskEntry, error) {
	if in.ExtensionID == 0 {
		return nil, invalid{"extension": "Choose the extension"}
	}
	e, err := s.extensionFor(ctx, a, in.ExtensionID)
	if err != nil {
		return nil, err
	}
	in.HotdeskID = strings.TrimSpace(in.HotdeskID)
	bad := invalid{}
	if _, err := s.db.HotdeskEntryOf(ctx, e.ID); err == nil {
		bad["extension"] = "Extension " + e.Number + " already has a hot-desk ID"
	}
	bad.check("hotdesk_id", store.ValidHotdeskID(in.HotdeskID))
	if in.PIN != "" {
		bad.check("pin", store.ValidHotdeskPIN(in.PIN, e.Number, in.HotdeskID))
	}
	bad.check("description", checkDescription(in.Description))
	bad.check("dial_override", s.checkDialOverride(ctx, a, in.DialOverride))
	if err := bad.err(); err != nil {
		return nil, err
	}
	h, err := s.hotdesk.CreateEntry(ctx, store.NewHotdeskEntry{Domain: e.Domain, Number: e.Number, HotdeskID: in.HotdeskID,
		PIN: in.PIN, Description: in.Description, DialOverride: in.DialOverride}, actor(a))
	if err != nil {
		return nil, hotdeskStoreError(err)
	}
	s.log.Info("hot-desk ID added", "admin", a.Username, "extension", e.AOR())
	return h, nil
}

// hotdeskStoreError puts a store refusal beside its field. A clash of IDs
// says only "already in use": which tenant holds the ID is not the
// admin's to know.
func hotdeskStoreError(err error) error {
	if store.ErrorCode(err) == store.ECONFLICT && store.FieldOf(err) == "hotdesk_id" {
		return invalid{"hotdesk_id": "This hot-desk ID is already in use; choose another"}
	}
	return fieldError(err, "hotdesk_id")
}

type hotdeskChange struct {
	HotdeskID    *string
	Description  *string
	PIN          string
	ClearPIN     bool
	DialOverride *string // "" removes it
}

func (s *Server) updateHotdesk(ctx context.Context, a *store.Admin, extensionID int64, ch hotdeskChange) (*store.HotdeskEntry, error) {
	h, err := s.entryFor(ctx, a, extensionID)
	if err != nil {
		return nil, err
	}
	bad := invalid{}
	newID := h.HotdeskID
	if ch.HotdeskID != nil {
		newID = strings.TrimSpace(*ch.HotdeskID)
		bad.check("hotdesk_id", store.ValidHotdeskID(newID))
	}
	if ch.Description != nil {
		bad.check("description", checkDescription(*ch.Description))
	}
	if ch.PIN != "" {
		bad.check("pin", store.ValidHotdeskPIN(ch.PIN, h.Person.Number, newID))
	}
	if ch.DialOverride != nil {
		bad.check("dial_override", s.checkDialOverride(ctx, a, *ch.DialOverride))
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	u := store.HotdeskEntryUpdate{Description: ch.Description, DialOverride: ch.DialOverride}
	if newID != h.HotdeskID {
		u.HotdeskID = &newID
	}
	switch {
	case ch.PIN != "":
		u.PIN = &ch.PIN
	case ch.ClearPIN:
		u.PIN = new(string)
	}
	h, err = s.hotdesk.UpdateEntry(ctx, h.HotdeskID, u, actor(a))
	if err != nil {
		return nil, hotdeskStoreError(err)
	}
	s.log.Info("hot-desk entry changed", "admin", a.Username, "extension", h.Person.AOR())
	return h, nil
}

func (s *Server) deleteHotdesk(ctx context.Context, a *store.Admin, extensionID int64) (*store.HotdeskEntry, error) {
	h, err := s.entryFor(ctx, a, extensionID)
	if err != nil {
		return nil, err
	}
	if err := s.hotdesk.DeleteEntry(ctx, h.HotdeskID, actor(a)); err != nil {
		return nil, err
	}
	s.log.Info("hot-desk ID removed", "admin", a.Username, "extension", h.Person.AOR())
	return h, nil
}

func (s *Server) forceLogout(ctx context.Context, a *store.Admin, extensionID int64) (*store.HotdeskEntry, bool, error) {
	h, err := s.entryFor(ctx, a, extensionID)
	if err != nil {
		return nil, false, err
	}
	sess, err := s.hotdesk.ForceLogout(ctx, h.HotdeskID, actor(a))
	return h, sess != nil, err
}

func (s *Server) unlockHotdesk(ctx context.Context, a *store.Admin, extensionID int64) (*store.HotdeskEntry, bool, error) {
	h, err := s.entryFor(ctx, a, extensionID)
	if err != nil {
		return nil, false, err
	}
	was, err := s.hotdesk.Unlock(ctx, h.HotdeskID, actor(a))
	return h, was, err
}

// unlockSeat lifts the lockout of the phone registered as extension
// extensionID: after ten wrong tries of *072 or *073 a phone is locked.
func (s *Server) unlockSeat(ctx context.Context, a *store.Admin, extensionID int64) (*store.Extension, bool, error) {
	e, err := s.extensionFor(ctx, a, extensionID)
	if err != nil {
		return nil, false, err
	}
	was, err := s.hotdesk.UnlockSeat(ctx, e, actor(a))
	return e, was, err
}

// logoutAll ends every session of a tenant: a's own, or for a system
// admin the one asked for (0: every tenant).
func (s *Server) logoutAll(ctx context.Context, a *store.Admin, tenantID int64) (int, error) {
	scope, err := s.scopeTenant(ctx, a, tenantID)
	if err != nil {
		return 0, err
	}
	n, err := s.hotdesk.ForceLogoutAll(ctx, scope, actor(a))
	if err == nil {
		s.log.Info("hot-desk: everyone logged out", "admin", a.Username, "tenant_id", scope, "sessions", n)
	}
	return n, err
}

// parseTenantHotdesk reads the hot-desk settings of the tenant form or
// API; nil arguments are settings left as they are.
func parseTenantHotdesk(login, logout *bool, at, after *string) (store.HotdeskSettings, invalid) {
	bad := invalid{}
	hs := store.HotdeskSettings{Login: login, Logout: logout}
	if at != nil {
		v := strings.TrimSpace(*at)
		if v != "" {
			if _, _, err := store.ParseAutologoutAt(v); err != nil {
				bad["autologout_at"] = "Give a time of day as HH:MM (00:00 to 23:59), or leave it empty"
			}
		}
		hs.AutologoutAt = &v
	}
	if after != nil {
		var d time.Duration
		v := strings.TrimSpace(*after)
		if v != "" && v != "0" {
			var err error
			d, err = time.ParseDuration(v)
			switch {
			case err != nil:
				bad["autologout_after"] = "Give a length such as 8h, 90m or 7h30m, or leave it empty"
			case d < time.Minute:
				bad["autologout_after"] = "Give at least 1m"
			case d%time.Second != 0:
				bad["autologout_after"] = "Give whole seconds"
			}
		}
		hs.AutologoutAfter = &d
	}
	return hs, bad
}

// formatAfter writes a duration the way an admin would type it.
func formatAfter(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	s = strings.TrimSuffix(s, "0m")
	return s
}

type hotdeskData struct {
	Rows        []hotdeskRow
	LockedSeats []store.SeatLock
	Tenants     []*store.Tenant
	TenantID    int64
	CSRF        string
	Admin       *store.Admin
	Now         time.Time
	LiveQuery   string
}

func (s *Server) hotdeskPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	requested := tenantParam(r)
	scope, err := s.scopeTenant(r.Context(), me.admin, requested)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	live, err := s.liveData(r.Context(), me, scope)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := live.Hotdesk
	d.TenantID = requested
	if me.admin.System() {
		if d.Tenants, err = s.db.Tenants(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "hotdesk", &page{Title: "Hot desking", Nav: "hotdesk", D: live})
}

func (s *Server) hotdeskView(ctx context.Context, me *who, scope int64) (*hotdeskData, error) {
	rows, err := s.hotdeskRows(ctx, scope)
	if err != nil {
		return nil, err
	}
	d := &hotdeskData{Rows: rows, CSRF: me.csrf, Admin: me.admin, Now: s.db.Now()}
	if d.LockedSeats, err = s.db.LockedSeats(ctx, scope, d.Now); err != nil {
		return nil, err
	}
	if scope != 0 {
		d.LiveQuery = strconv.FormatInt(scope, 10)
	}
	return d, nil
}

type hotdeskFormData struct {
	Entry      *store.HotdeskEntry // nil when adding
	Extensions []*store.Extension  // those without an entry, when adding
	Form       *form
}

func (s *Server) hotdeskNewPage(w http.ResponseWriter, r *http.Request) {
	if s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	f := newForm(nil)
	f.Values["extension"] = r.URL.Query().Get("extension")
	s.renderHotdeskForm(w, r, nil, f, http.StatusOK)
}

func (s *Server) renderHotdeskForm(w http.ResponseWriter, r *http.Request, h *store.HotdeskEntry, f *form, status int) {
	me := whoFrom(r.Context())
	d := hotdeskFormData{Entry: h, Form: f}
	title := "Add a hot-desk ID"
	if h != nil {
		title = "Hot desking of " + h.Person.AOR()
	} else {
		exts, err := s.db.Extensions(r.Context(), me.admin.TenantID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		entries, err := s.db.HotdeskEntries(r.Context(), me.admin.TenantID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		has := map[int64]bool{}
		for _, e := range entries {
			has[e.Person.ID] = true
		}
		for _, e := range exts {
			if !has[e.ID] {
				d.Extensions = append(d.Extensions, e)
			}
		}
	}
	s.render(w, r, status, "hotdesk_entry", &page{Title: title, Nav: "hotdesk", D: d})
}

func (s *Server) hotdeskCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	f := newForm(r)
	extID, _ := strconv.ParseInt(f.Values["extension"], 10, 64)
	h, err := s.createHotdesk(r.Context(), me.admin, hotdeskInput{ExtensionID: extID, HotdeskID: f.Values["hotdesk_id"],
		PIN: f.Values["pin"], Description: f.Values["description"], DialOverride: f.Values["dial_override"]})
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderHotdeskForm(w, r, nil, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/hotdesk", "Hot-desk ID added for "+h.Person.AOR()+".")
}

func (s *Server) hotdeskEditPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok || s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	h, err := s.entryFor(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	f := newForm(nil).set("hotdesk_id", h.HotdeskID, "description", h.Description, "dial_override", h.DialOverride)
	s.renderHotdeskForm(w, r, h, f, http.StatusOK)
}

func (s *Server) hotdeskUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok || s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	h, err := s.entryFor(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	f := newForm(r)
	hid, desc, dial := f.Values["hotdesk_id"], f.Values["description"], f.Values["dial_override"]
	_, err = s.updateHotdesk(r.Context(), me.admin, id, hotdeskChange{HotdeskID: &hid, Description: &desc,
		PIN: f.Values["pin"], ClearPIN: f.Values["clear_pin"] != "", DialOverride: &dial})
	if err != nil {
		if store.ErrorCode(err) != store.ENOTFOUND && f.apply(err) {
			s.renderHotdeskForm(w, r, h, f, http.StatusUnprocessableEntity)
			return
		}
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/hotdesk", "Hot desking of "+h.Person.AOR()+" saved.")
}

func (s *Server) hotdeskDelete(w http.ResponseWriter, r *http.Request) {
	s.hotdeskAction(w, r, func(ctx context.Context, a *store.Admin, id int64) (string, error) {
		h, err := s.deleteHotdesk(ctx, a, id)
		if err != nil {
			return "", err
		}
		return "Hot-desk ID of " + h.Person.AOR() + " removed.", nil
	})
}

func (s *Server) hotdeskForceLogout(w http.ResponseWriter, r *http.Request) {
	s.hotdeskAction(w, r, func(ctx context.Context, a *store.Admin, id int64) (string, error) {
		h, ended, err := s.forceLogout(ctx, a, id)
		if err != nil {
			return "", err
		}
		if !ended {
			return h.Person.AOR() + " was not seated anywhere.", nil
		}
		return h.Person.AOR() + " logged out.", nil
	})
}

func (s *Server) hotdeskUnlock(w http.ResponseWriter, r *http.Request) {
	s.hotdeskAction(w, r, func(ctx context.Context, a *store.Admin, id int64) (string, error) {
		h, was, err := s.unlockHotdesk(ctx, a, id)
		if err != nil {
			return "", err
		}
		if !was {
			return "The hot-desk ID of " + h.Person.AOR() + " was not locked.", nil
		}
		return "The hot-desk ID of " + h.Person.AOR() + " is unlocked.", nil
	})
}

func (s *Server) hotdeskSeatUnlock(w http.ResponseWriter, r *http.Request) {
	s.hotdeskAction(w, r, func(ctx context.Context, a *store.Admin, id int64) (string, error) {
		e, was, err := s.unlockSeat(ctx, a, id)
		if err != nil {
			return "", err
		}
		if !was {
			return "The phone " + e.AOR() + " was not locked.", nil
		}
		return "The phone " + e.AOR() + " is unlocked.", nil
	})
}

func (s *Server) hotdeskAction(w http.ResponseWriter, r *http.Request, act func(context.Context, *store.Admin, int64) (string, error)) {
	me := whoFrom(r.Context())
	id, ok := idParam(r)
	if !ok || s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	msg, err := act(r.Context(), me.admin, id)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	redirect(w, r, "/hotdesk", msg)
}

func (s *Server) hotdeskLogoutAll(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	tenantID, _ := strconv.ParseInt(r.PostFormValue("tenant"), 10, 64)
	n, err := s.logoutAll(r.Context(), me.admin, tenantID)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	to := "/hotdesk"
	if tenantID != 0 {
		to += "?tenant=" + strconv.FormatInt(tenantID, 10)
	}
	redirect(w, r, to, fmt.Sprintf("Logged out %d hot-desk sessions.", n))
}

type auditData struct {
	Entries   []store.AuditEntry
	More      bool
	Tenants   []*store.Tenant
	Actions   []string
	Outcomes  []string
	Filter    url.Values
	NextURL   template.URL // older entries, same filter
	NewestURL template.URL // back to the first page, same filter
	First     bool
}

const auditPageSize = 50

func (s *Server) auditFilter(r *http.Request, a *store.Admin) (store.AuditFilter, error) {
	q := r.URL.Query()
	scope, err := s.scopeTenant(r.Context(), a, tenantParam(r))
	if err != nil {
		return store.AuditFilter{}, err
	}
	f := store.AuditFilter{TenantID: scope, Action: q.Get("action"), Outcome: q.Get("outcome"), Text: strings.TrimSpace(q.Get("q"))}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if d, err := time.ParseInLocation("2006-01-02", q.Get("from"), time.Local); err == nil {
		f.Since = d
	}
	if d, err := time.ParseInLocation("2006-01-02", q.Get("to"), time.Local); err == nil {
		f.Until = d.AddDate(0, 0, 1)
	}
	return f, nil
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if s.hotdesk == nil {
		s.notFound(w, r)
		return
	}
	f, err := s.auditFilter(r, me.admin)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	entries, more, err := s.db.AuditLog(r.Context(), f, auditPageSize)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	d := auditData{Entries: entries, More: more, Filter: r.URL.Query(), First: f.Before == 0}
	if d.Actions, d.Outcomes, err = s.db.AuditValues(r.Context(), f.TenantID); err != nil {
		s.serverError(w, r, err)
		return
	}
	if me.admin.System() {
		if d.Tenants, err = s.db.Tenants(r.Context()); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	// Built here, already encoded: html/template would escape the & and
	// = of a query string given to it as text.
	q := r.URL.Query()
	q.Del("before")
	d.NewestURL = template.URL("/audit?" + q.Encode())
	if more && len(entries) > 0 {
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.NextURL = template.URL("/audit?" + q.Encode())
	}
	s.render(w, r, http.StatusOK, "audit", &page{Title: "Audit log", Nav: "audit", D: d})
}

// The hot-desk part of the JSON API.
func (s *Server) hotdeskAPIRoutes(r chi.Router) {
	r.Get("/hotdesk", s.apiHotdeskList)
	r.Post("/hotdesk", s.apiHotdeskCreate)
	r.Get("/hotdesk/sessions", s.apiHotdeskSessions)
	r.Post("/hotdesk/logout-all", s.apiHotdeskLogoutAll)
	r.Get("/hotdesk/{id}", s.apiHotdeskGet)
	r.Patch("/hotdesk/{id}", s.apiHotdeskUpdate)
	r.Delete("/hotdesk/{id}", s.apiHotdeskDelete)
	r.Post("/hotdesk/{id}/logout", s.apiHotdeskLogout)
	r.Post("/hotdesk/{id}/unlock", s.apiHotdeskUnlock)
	r.Post("/hotdesk/seats/{id}/unlock", s.apiHotdeskSeatUnlock)
	r.Get("/audit", s.apiAudit)
}

// apiHotdesk is an entry in the API; id is the extension's, as in URLs.
type apiHotdesk struct {
	ExtensionID  int64      `json:"extension_id"`
	Extension    string     `json:"extension"`
	Name         string     `json:"name"`
	HotdeskID    string     `json:"hotdesk_id"`
	HasOwnPIN    bool       `json:"has_own_password"`
	SeatedAt     string     `json:"seated_at,omitempty"`
	Since        *time.Time `json:"since,omitempty"`
	DialString   string     `json:"dial_string,omitempty"`
	DialOverride string     `json:"dial_override,omitempty"`
	Description  string     `json:"description"`
	Locked       bool       `json:"locked"`
}

func (s *Server) toAPIHotdesk(h *store.HotdeskEntry) apiHotdesk {
	out := apiHotdesk{ExtensionID: h.Person.ID, Extension: h.Person.AOR(), Name: h.Person.DisplayName, HotdeskID: h.HotdeskID,
		HasOwnPIN: h.PINHash != "", SeatedAt: h.Seat, DialString: h.DialString(), DialOverride: h.DialOverride,
		Description: h.Description, Locked: h.Locked(s.db.Now())}
	if !h.SeatedSince.IsZero() {
		t := h.SeatedSince
		out.Since = &t
	}
	return out
}

func (s *Server) apiHotdeskReady(w http.ResponseWriter) bool {
	if s.hotdesk == nil {
		apiError(w, http.StatusNotFound, store.ENOTFOUND, "hot desking is not available", "")
		return false
	}
	return true
}

func (s *Server) apiHotdeskList(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if !s.apiHotdeskReady(w) {
		return
	}
	scope, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	entries, err := s.db.HotdeskEntries(r.Context(), scope)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiHotdesk, len(entries))
	for i, h := range entries {
		out[i] = s.toAPIHotdesk(h)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiHotdeskGet(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	h, err := s.entryFor(r.Context(), whoFrom(r.Context()).admin, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskCreate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	if !s.apiHotdeskReady(w) {
		return
	}
	var in struct {
		ExtensionID  int64  `json:"extension_id"`
		HotdeskID    string `json:"hotdesk_id"`
		PIN          string `json:"password"`
		Description  string `json:"description"`
		DialOverride string `json:"dial_override"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	h, err := s.createHotdesk(r.Context(), me.admin, hotdeskInput(in))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskUpdate(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	if _, err := s.entryFor(r.Context(), me.admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	var in struct {
		HotdeskID    *string `json:"hotdesk_id"`
		Description  *string `json:"description"`
		PIN          string  `json:"password"`
		ClearPIN     bool    `json:"clear_password"`
		DialOverride *string `json:"dial_override"`
	}
	if err := decode(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	h, err := s.updateHotdesk(r.Context(), me.admin, id, hotdeskChange(in))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	if _, err := s.deleteHotdesk(r.Context(), whoFrom(r.Context()).admin, id); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiHotdeskLogout(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	_, ended, err := s.forceLogout(r.Context(), whoFrom(r.Context()).admin, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"logged_out": ended})
}

func (s *Server) apiHotdeskUnlock(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	_, was, err := s.unlockHotdesk(r.Context(), whoFrom(r.Context()).admin, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"was_locked": was})
}

// apiHotdeskSeatUnlock lifts the lockout of a phone; {id} is the
// phone's own extension.
func (s *Server) apiHotdeskSeatUnlock(w http.ResponseWriter, r *http.Request) {
	id, ok := apiID(w, r)
	if !ok || !s.apiHotdeskReady(w) {
		return
	}
	_, was, err := s.unlockSeat(r.Context(), whoFrom(r.Context()).admin, id)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"was_locked": was})
}

func (s *Server) apiHotdeskLogoutAll(w http.ResponseWriter, r *http.Request) {
	if !s.apiHotdeskReady(w) {
		return
	}
	n, err := s.logoutAll(r.Context(), whoFrom(r.Context()).admin, tenantParam(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"logged_out": n})
}

type apiSeat struct {
	Person string    `json:"person"`
	Seat   string    `json:"seat"`
	Since  time.Time `json:"since"`
	How    string    `json:"how"`
}

func (s *Server) apiHotdeskSessions(w http.ResponseWriter, r *http.Request) {
	if !s.apiHotdeskReady(w) {
		return
	}
	seats, err := s.seats(r.Context(), whoFrom(r.Context()).admin)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiSeat, len(seats))
	for i, x := range seats {
		out[i] = apiSeat{Person: x.Person, Seat: x.Device, Since: x.Since, How: x.How}
	}
	writeJSON(w, http.StatusOK, out)
}

type apiAuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Person  string    `json:"person,omitempty"`
	Seat    string    `json:"seat,omitempty"`
	Source  string    `json:"source,omitempty"`
	IDTried string    `json:"id_tried,omitempty"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// apiAudit pages with ?before=ID (the "next_before" of the previous page).
func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) {
	if !s.apiHotdeskReady(w) {
		return
	}
	f, err := s.auditFilter(r, whoFrom(r.Context()).admin)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	entries, more, err := s.db.AuditLog(r.Context(), f, limit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := struct {
		Entries    []apiAuditEntry `json:"entries"`
		NextBefore int64           `json:"next_before,omitempty"`
	}{Entries: make([]apiAuditEntry, len(entries))}
	for i, a := range entries {
		out.Entries[i] = apiAuditEntry{ID: a.ID, At: a.At, Actor: a.Actor, Action: a.Action, Person: a.Person, Seat: a.Seat,
			Source: a.Source, IDTried: a.IDTried, Outcome: a.Outcome, Detail: a.Detail}
	}
	if more {
		out.NextBefore = entries[len(entries)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}
