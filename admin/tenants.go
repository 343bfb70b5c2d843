package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"deskpbx/store"
)

// Tenants: a system admin adds and deletes them; a tenant admin sees and
// changes its own (company PIN, hot-desk settings).

type tenantInput struct {
	Domain     string
	CompanyPIN string
	Default    bool
}

func (s *Server) createTenant(c *call, in tenantInput) (*store.Tenant, error) {
	if !c.admin.System() {
		return nil, store.Errorf(EFORBIDDEN, "only a system admin can add tenants")
	}
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	bad := invalid{}
	bad.check("domain", store.ValidDomain(in.Domain))
	if in.CompanyPIN != "" {
		bad.check("company_pin", store.ValidCompanyPIN(in.CompanyPIN))
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	if s.hotdesk == nil {
		return nil, store.Errorf(store.EINVALID, "hot desking is not available")
	}
	// Through the hot-desk service: the company PIN is a hot-desk secret.
	t, err := s.hotdesk.CreateTenant(c.ctx, in.Domain, in.CompanyPIN, in.Default, actor(c.admin))
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"domain": "A tenant " + in.Domain + " already exists"}
	}
	if err == nil {
		s.log.Info("tenant added", "admin", c.admin.Username, "tenant", t.Domain)
	}
	return t, err
}

type tenantChange struct {
	CompanyPIN *string // nil keeps it, "" removes it
	Default    bool
	Hotdesk    *store.HotdeskSettings // nil keeps the hot-desk settings
	// MWIUnsolicited: unsolicited message-summary NOTIFYs to the
	// tenant's phones that do not subscribe; nil keeps the setting.
	MWIUnsolicited *bool
}

func (s *Server) updateTenant(c *call, ch tenantChange) (*store.Tenant, error) {
	t, err := s.tenantFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, err
	}
	bad := invalid{}
	if ch.CompanyPIN != nil && *ch.CompanyPIN != "" {
		bad.check("company_pin", store.ValidCompanyPIN(*ch.CompanyPIN))
	}
	if ch.Default && !t.Default && !c.admin.System() {
		bad[""] = "Only a system admin can change the default tenant"
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	// One transaction through the hot-desk service, the owner of the
	// company PIN and the hot-desk switches, which checks the PIN against
	// the tenant's numbers and IDs and writes the audit rows. Unchanged
	// settings are left out so the log shows what an admin changed, not
	// what a form resent.
	var u store.TenantUpdate
	if ch.Hotdesk != nil {
		u.HotdeskSettings = *ch.Hotdesk
	}
	hs := &u.HotdeskSettings
	hs.CompanyPIN = ch.CompanyPIN
	if hs.CompanyPIN != nil && *hs.CompanyPIN == "" && !t.HasCompanyPIN {
		hs.CompanyPIN = nil
	}
	hs.Login = changed(hs.Login, t.HotdeskLogin)
	hs.Logout = changed(hs.Logout, t.HotdeskLogout)
	hs.AutologoutAt = changed(hs.AutologoutAt, t.AutologoutAt)
	hs.AutologoutAfter = changed(hs.AutologoutAfter, t.AutologoutAfter)
	u.MakeDefault = ch.Default && !t.Default
	u.MWIUnsolicited = changed(ch.MWIUnsolicited, t.MWIUnsolicited)
	if u.MakeDefault || *hs != (store.HotdeskSettings{}) || u.MWIUnsolicited != nil {
		update := s.db.UpdateTenant
		switch {
		case s.hotdesk != nil:
			update = s.hotdesk.UpdateTenant
		case u.MakeDefault || *hs != (store.HotdeskSettings{}):
			return nil, store.Errorf(store.EINVALID, "hot desking is not available")
		}
		if _, err := update(c.ctx, t.Domain, u, actor(c.admin)); err != nil {
			return nil, fieldError(err, "")
		}
	}
	s.log.Info("tenant changed", "admin", c.admin.Username, "tenant", t.Domain)
	return s.db.TenantByID(c.ctx, t.ID)
}

// changed is v unless it points to what the tenant already has.
func changed[T comparable](v *T, was T) *T {
	if v != nil && *v == was {
		return nil
	}
	return v
}

func (s *Server) deleteTenant(c *call) (*store.Tenant, error) {
	t, err := s.tenantFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, err
	}
	if !c.admin.System() {
		return nil, store.Errorf(EFORBIDDEN, "only a system admin can delete a tenant")
	}
	if err := s.db.DeleteTenant(c.ctx, t.ID); err != nil {
		return nil, err
	}
	s.log.Info("tenant deleted", "admin", c.admin.Username, "tenant", t.Domain)
	return t, nil
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

// parseOnOff reads a form's on/off choice; anything else is refused
// beside the field.
func parseOnOff(field, v string) (bool, error) {
	switch v {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, invalid{field: "Choose on or off"}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
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

type tenantRow struct {
	*store.Tenant
	Extensions int
}

// tenantRows lists the tenants c's admin sees with their extension counts.
func (s *Server) tenantRows(c *call) ([]tenantRow, error) {
	ts, err := s.tenantsFor(c.ctx, c.admin)
	if err != nil {
		return nil, err
	}
	counts, err := s.db.ExtensionCounts(c.ctx)
	if err != nil {
		return nil, err
	}
	rows := make([]tenantRow, len(ts))
	for i, t := range ts {
		rows[i] = tenantRow{Tenant: t, Extensions: counts[t.ID]}
	}
	return rows, nil
}

// tenantRow is the row of tenant id, not found unless c's admin sees it.
func (s *Server) tenantRow(c *call, id int64) (tenantRow, error) {
	rows, err := s.tenantRows(c)
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

// The pages.

type tenantsData struct {
	Tenants []tenantRow
	Form    *form
}

func (s *Server) tenantsPage(c *call) error { return s.renderTenants(c, newForm(nil), http.StatusOK) }

func (s *Server) renderTenants(c *call, f *form, status int) error {
	rows, err := s.tenantRows(c)
	if err != nil {
		return err
	}
	s.render(c.w, c.r, status, "tenants", &page{Title: "Tenants", Nav: "tenants", D: tenantsData{Tenants: rows, Form: f}})
	return nil
}

func (s *Server) tenantCreate(c *call) error {
	f := newForm(c.r)
	t, err := s.createTenant(c, tenantInput{Domain: f.Values["domain"], CompanyPIN: f.Values["company_pin"], Default: f.Values["default"] != ""})
	if store.ErrorCode(err) == EFORBIDDEN {
		return notFound("tenant")
	}
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderTenants(c, f, status) })
	}
	return c.redirect("/tenants", "Tenant "+t.Domain+" added.")
}

type tenantData struct {
	Tenant    tenantRow
	Form      *form
	Voicemail bool // the message-waiting settings have a meaning
}

func (s *Server) tenantPage(c *call) error { return s.renderTenant(c, nil, http.StatusOK) }

func (s *Server) renderTenant(c *call, f *form, status int) error {
	row, err := s.tenantRow(c, c.id)
	if err != nil {
		return err
	}
	if f == nil {
		f = newForm(nil).set("hotdesk_login", boolValue(row.HotdeskLogin), "hotdesk_logout", boolValue(row.HotdeskLogout),
			"autologout_at", row.AutologoutAt, "autologout_after", formatAfter(row.AutologoutAfter),
			"mwi_unsolicited", onOff(row.MWIUnsolicited))
	}
	s.render(c.w, c.r, status, "tenant", &page{Title: "Tenant " + row.Domain, Nav: "tenants",
		D: tenantData{Tenant: row, Form: f, Voicemail: s.cfg.Voicemail != nil}})
	return nil
}

func boolValue(b bool) string {
	if b {
		return "on"
	}
	return ""
}

func (s *Server) tenantUpdate(c *call) error {
	f := newForm(c.r)
	var ch tenantChange
	switch {
	case f.Values["clear_pin"] != "":
		ch.CompanyPIN = new(string)
	case f.Values["company_pin"] != "":
		pin := f.Values["company_pin"]
		ch.CompanyPIN = &pin
	}
	ch.Default = f.Values["default"] != ""
	show := func(status int) error { return s.renderTenant(c, f, status) }
	if f.Values["hotdesk_settings"] != "" {
		login, logout := f.Values["hotdesk_login"] != "", f.Values["hotdesk_logout"] != ""
		at, after := f.Values["autologout_at"], f.Values["autologout_after"]
		hd, bad := parseTenantHotdesk(&login, &logout, &at, &after)
		if len(bad) > 0 {
			return c.refused(f, bad, show)
		}
		ch.Hotdesk = &hd
	}
	if v, ok := f.Values["mwi_unsolicited"]; ok {
		on, err := parseOnOff("mwi_unsolicited", v)
		if err != nil {
			return c.refused(f, err, show)
		}
		ch.MWIUnsolicited = &on
	}
	t, err := s.updateTenant(c, ch)
	if err != nil {
		return c.refused(f, err, show)
	}
	return c.redirect("/tenants/"+strconv.FormatInt(t.ID, 10), "Tenant "+t.Domain+" saved.")
}

func (s *Server) tenantDelete(c *call) error {
	t, err := s.deleteTenant(c)
	if err != nil {
		return err
	}
	return c.redirect("/tenants", "Tenant "+t.Domain+" deleted, with its extensions.")
}

// The API.

type apiTenant struct {
	ID            int64              `json:"id"`
	Domain        string             `json:"domain"`
	Default       bool               `json:"default"`
	HasCompanyPIN bool               `json:"has_company_pin"`
	Extensions    int                `json:"extensions"`
	Created       time.Time          `json:"created_at"`
	HotDesk       apiTenantHotDesk   `json:"hotdesk"`
	Voicemail     apiTenantVoicemail `json:"voicemail"`
}

type apiTenantVoicemail struct {
	MWIUnsolicited bool `json:"mwi_unsolicited"`
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
			AutoLogoutAt: row.AutologoutAt, AutoLogoutAfter: formatAfter(row.AutologoutAfter)},
		Voicemail: apiTenantVoicemail{MWIUnsolicited: row.MWIUnsolicited}}
}

func (s *Server) apiTenants(c *call) error {
	rows, err := s.tenantRows(c)
	return answerList(c, rows, err, toAPITenant)
}

func (s *Server) apiTenant(c *call) error { return s.apiTenantAnswer(c, http.StatusOK, c.id) }

func (s *Server) apiTenantAnswer(c *call, status int, id int64) error {
	row, err := s.tenantRow(c, id)
	return answer(c, status, row, err, toAPITenant)
}

func (s *Server) apiTenantCreate(c *call) error {
	var in struct {
		Domain     string `json:"domain"`
		CompanyPIN string `json:"company_pin"`
		Default    bool   `json:"default"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	t, err := s.createTenant(c, tenantInput{Domain: in.Domain, CompanyPIN: in.CompanyPIN, Default: in.Default})
	if err != nil {
		return err
	}
	return s.apiTenantAnswer(c, http.StatusCreated, t.ID)
}

func (s *Server) apiTenantUpdate(c *call) error {
	// Visibility first: a tenant admin probing another tenant's ID gets
	// 404 whatever the body says.
	if _, err := s.tenantFor(c.ctx, c.admin, c.id); err != nil {
		return err
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
		Voicemail *struct {
			MWIUnsolicited *bool `json:"mwi_unsolicited"`
		} `json:"voicemail"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	ch := tenantChange{CompanyPIN: in.CompanyPIN, Default: in.Default}
	if in.Voicemail != nil {
		ch.MWIUnsolicited = in.Voicemail.MWIUnsolicited
	}
	if in.HotDesk != nil {
		hd, bad := parseTenantHotdesk(in.HotDesk.Login, in.HotDesk.Logout, in.HotDesk.AutoLogoutAt, in.HotDesk.AutoLogoutAfter)
		if len(bad) > 0 {
			return bad
		}
		ch.Hotdesk = &hd
	}
	if _, err := s.updateTenant(c, ch); err != nil {
		return err
	}
	return s.apiTenant(c)
}

func (s *Server) apiTenantDelete(c *call) error {
	_, err := s.deleteTenant(c)
	return c.done(err)
}
