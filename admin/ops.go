package admin

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"deskpbx/pbx"
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

type tenantInput struct {
	Domain     string
	CompanyPIN string
	Default    bool
}

func (s *Server) createTenant(ctx context.Context, a *store.Admin, in tenantInput) (*store.Tenant, error) {
	if !a.System() {
		return nil, store.Errorf(EFORBIDDEN, "only a system admin can add tenants")
	}
	in.Domain = strings.ToLower(strings.TrimSpace(in.Domain))
	bad := invalid{}
	bad.check("domain", store.ValidDomain(in.Domain))
	if in.CompanyPIN != "" {
		bad.check("company_pin", store.ValidPIN(in.CompanyPIN))
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	t, err := s.db.CreateTenant(ctx, in.Domain, in.CompanyPIN, in.Default)
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"domain": "A tenant " + in.Domain + " already exists"}
	}
	if err == nil {
		s.record(ctx, a, t.ID, "tenant added", t.Domain)
	}
	return t, err
}

// record puts an admin's change in the audit log once it is committed.
// Secrets are never written: only that they changed.
func (s *Server) record(ctx context.Context, a *store.Admin, tenantID int64, what, detail string) {
	err := s.db.RecordAudit(context.WithoutCancel(ctx), store.AuditEntry{
		TenantID: tenantID, Actor: actor(a), Action: "admin-change", Outcome: what, Detail: detail})
	if err != nil {
		s.log.Error("writing the audit log", "err", err, "change", what, "detail", detail)
	}
}

type tenantChange struct {
	CompanyPIN *string // nil keeps it, "" removes it
	Default    bool
	Hotdesk    *store.HotdeskSettings // nil keeps the hot-desk settings
}

func (s *Server) updateTenant(ctx context.Context, a *store.Admin, id int64, ch tenantChange) (*store.Tenant, error) {
	t, err := s.tenantFor(ctx, a, id)
	if err != nil {
		return nil, err
	}
	bad := invalid{}
	if ch.CompanyPIN != nil && *ch.CompanyPIN != "" {
		bad.check("company_pin", store.ValidPIN(*ch.CompanyPIN))
	}
	if ch.Default && !t.Default && !a.System() {
		bad[""] = "Only a system admin can change the default tenant"
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	// The company PIN and the hot-desk switches go through the hot-desk
	// store call: it checks the PIN against the tenant's numbers and IDs
	// and writes the change to the audit log. Unchanged settings are left
	// out so the log shows what an admin changed, not what a form resent.
	var hs store.HotdeskSettings
	if ch.Hotdesk != nil {
		hs = *ch.Hotdesk
	}
	hs.CompanyPIN = ch.CompanyPIN
	if hs.CompanyPIN != nil && *hs.CompanyPIN == "" && !t.HasCompanyPIN {
		hs.CompanyPIN = nil
	}
	if hs.Login != nil && *hs.Login == t.HotdeskLogin {
		hs.Login = nil
	}
	if hs.Logout != nil && *hs.Logout == t.HotdeskLogout {
		hs.Logout = nil
	}
	if hs.AutologoutAt != nil && *hs.AutologoutAt == t.AutologoutAt {
		hs.AutologoutAt = nil
	}
	if hs.AutologoutAfter != nil && *hs.AutologoutAfter == t.AutologoutAfter {
		hs.AutologoutAfter = nil
	}
	if hs.CompanyPIN != nil || hs.Login != nil || hs.Logout != nil || hs.AutologoutAt != nil || hs.AutologoutAfter != nil {
		if _, err := s.db.SetTenantHotdesk(ctx, t.Domain, hs, actor(a)); err != nil {
			var se *store.Error
			if errors.As(err, &se) && se.Code == store.EINVALID {
				field := ""
				switch {
				case strings.HasPrefix(se.Message, "company"):
					field = "company_pin"
				case strings.HasPrefix(se.Message, "auto-logout time"):
					field = "autologout_at"
				case strings.HasPrefix(se.Message, "auto-logout after"):
					field = "autologout_after"
				}
				return nil, invalid{field: upperFirst(se.Message)}
			}
			return nil, err
		}
	}
	if ch.Default && !t.Default {
		t2, err := s.db.UpdateTenant(ctx, id, store.TenantUpdate{MakeDefault: true})
		if err == nil {
			s.record(ctx, a, id, "default tenant", t.Domain+" is now the default tenant")
		}
		return t2, err
	}
	return s.db.TenantByID(ctx, id)
}

func (s *Server) deleteTenant(ctx context.Context, a *store.Admin, id int64) error {
	if _, err := s.tenantFor(ctx, a, id); err != nil {
		return err
	}
	if !a.System() {
		return store.Errorf(EFORBIDDEN, "only a system admin can delete a tenant")
	}
	t, _ := s.db.TenantByID(ctx, id)
	if err := s.db.DeleteTenant(ctx, id); err != nil {
		return err
	}
	if t != nil {
		s.record(ctx, a, 0, "tenant deleted", t.Domain+", with its extensions")
	}
	return nil
}

type extensionInput struct {
	TenantID int64
	Domain   string // alternative to TenantID, as in the CLI and CSV
	Number   string
	Password string
	PIN      string
	Name     string
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

func checkExtension(in extensionInput, domain string) error {
	bad := invalid{}
	in.Number = strings.TrimSpace(in.Number)
	bad.check("number", store.ValidNumber(in.Number))
	bad.check("password", store.StrongSIPPassword(in.Number, domain, in.Password))
	if in.PIN != "" {
		bad.check("pin", store.CheckVoicemailPIN(in.Number, in.PIN))
	}
	_, err := store.CleanDisplayName(in.Name)
	bad.check("name", err)
	return bad.err()
}

func (s *Server) createExtension(ctx context.Context, a *store.Admin, in extensionInput) (*store.Extension, error) {
	t, err := s.resolveTenant(ctx, a, in.TenantID, in.Domain)
	if err != nil {
		return nil, err
	}
	if err := checkExtension(in, t.Domain); err != nil {
		return nil, err
	}
	e, err := s.db.CreateExtension(ctx, store.NewExtension{Domain: t.Domain, Number: in.Number, Password: in.Password, PIN: in.PIN, Name: in.Name})
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"number": "Extension " + strings.TrimSpace(in.Number) + " already exists"}
	}
	if err == nil {
		s.record(ctx, a, e.TenantID, "extension added", e.AOR())
	}
	return e, err
}

type extensionChange struct {
	Name     *string
	Password string
	PIN      string
	ClearPIN bool
}

func (s *Server) updateExtension(ctx context.Context, a *store.Admin, id int64, ch extensionChange) (*store.Extension, error) {
	e, err := s.extensionFor(ctx, a, id)
	if err != nil {
		return nil, err
	}
	bad := invalid{}
	if ch.Name != nil {
		_, err := store.CleanDisplayName(*ch.Name)
		bad.check("name", err)
	}
	if ch.Password != "" {
		bad.check("password", store.StrongSIPPassword(e.Number, e.Domain, ch.Password))
	}
	if ch.PIN != "" {
		bad.check("pin", store.CheckVoicemailPIN(e.Number, ch.PIN))
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	e2, err := s.db.UpdateExtension(ctx, id, store.ExtensionUpdate{Name: ch.Name, Password: ch.Password, PIN: ch.PIN, ClearPIN: ch.ClearPIN})
	if err == nil {
		var changed []string
		if ch.Name != nil && *ch.Name != e.DisplayName {
			changed = append(changed, "name")
		}
		if ch.Password != "" {
			changed = append(changed, "SIP password")
		}
		if ch.PIN != "" || ch.ClearPIN {
			changed = append(changed, "voicemail PIN")
		}
		if len(changed) > 0 {
			s.record(ctx, a, e.TenantID, "extension changed", e.AOR()+": "+strings.Join(changed, ", "))
		}
	}
	return e2, err
}

func (s *Server) deleteExtension(ctx context.Context, a *store.Admin, id int64) error {
	e, err := s.extensionFor(ctx, a, id)
	if err != nil {
		return err
	}
	if err := s.db.DeleteExtension(ctx, id); err != nil {
		return err
	}
	s.record(ctx, a, e.TenantID, "extension deleted", e.AOR())
	return nil
}

// registration is one live binding, labelled with its extension.
type registration struct {
	ExtensionID int64
	TenantID    int64
	AOR         string
	Name        string
	Contact     string
	Source      string
	Transport   string
	UserAgent   string
	Expires     time.Time
}

func (s *Server) registrations(ctx context.Context, a *store.Admin) ([]registration, error) {
	bs := s.pbx.Location().All()
	ids := make([]int64, 0, len(bs))
	for _, b := range bs {
		ids = append(ids, b.ExtensionID)
	}
	exts, err := s.db.ExtensionsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]registration, 0, len(bs))
	for _, b := range bs {
		e := exts[b.ExtensionID]
		// A binding whose extension was just deleted lingers in memory
		// until it expires; it belongs to nobody any more.
		if e == nil || !a.System() && e.TenantID != a.TenantID {
			continue
		}
		out = append(out, registration{ExtensionID: e.ID, TenantID: e.TenantID, AOR: e.AOR(), Name: e.DisplayName,
			Contact: b.Contact, Source: b.Source, Transport: strings.ToUpper(b.Transport), UserAgent: b.UserAgent, Expires: b.Expires})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].AOR != out[j].AOR {
			return out[i].AOR < out[j].AOR
		}
		return out[i].Contact < out[j].Contact
	})
	return out, nil
}

// calls returns the active calls a may see: those where any party (the
// phone, the identity it calls as, or the callee) is of a's tenant.
func (s *Server) calls(a *store.Admin) []pbx.CallInfo {
	all := s.pbx.ActiveCalls()
	if a.System() {
		return all
	}
	var out []pbx.CallInfo
	for _, c := range all {
		if domainOf(c.Caller) == a.Domain || domainOf(c.As) == a.Domain || domainOf(c.Callee) == a.Domain {
			out = append(out, c)
		}
	}
	return out
}

func domainOf(aor string) string {
	_, d, ok := strings.Cut(aor, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}

func (s *Server) hangup(ctx context.Context, a *store.Admin, id string) error {
	for _, c := range s.calls(a) {
		if c.ID == id {
			if !s.pbx.Hangup(ctx, id) {
				return notFound("call")
			}
			s.log.Info("admin hung up a call", "admin", a.Username, "call_id", c.CallID)
			s.record(ctx, a, a.TenantID, "call hung up", c.Caller+" to "+c.Callee)
			return nil
		}
	}
	return notFound("call")
}

type adminInput struct {
	Username string
	Password string
	TenantID int64 // 0: system admin (only a system admin may create one)
}

func (s *Server) createAdmin(ctx context.Context, a *store.Admin, in adminInput) (*store.Admin, error) {
	if !a.System() && in.TenantID == 0 {
		in.TenantID = a.TenantID
	}
	if in.TenantID != 0 || !a.System() {
		if _, err := s.tenantFor(ctx, a, in.TenantID); err != nil {
			return nil, err
		}
	}
	in.Username = strings.TrimSpace(in.Username)
	bad := invalid{}
	bad.check("username", store.ValidAdminUsername(in.Username))
	bad.check("password", store.ValidAdminPassword(in.Password, in.Username))
	if err := bad.err(); err != nil {
		return nil, err
	}
	na, err := s.db.CreateAdmin(ctx, in.Username, in.Password, in.TenantID)
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"username": "This username is already in use"}
	}
	if err == nil {
		s.log.Info("admin account created", "by", a.Username, "user", na.Username, "role", na.Role(), "tenant", na.Domain)
		s.record(ctx, a, na.TenantID, "admin added", na.Username+" ("+na.Role()+")")
	}
	return na, err
}

func (s *Server) adminFor(ctx context.Context, a *store.Admin, id int64) (*store.Admin, error) {
	other, err := s.db.AdminByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !a.System() && other.TenantID != a.TenantID {
		return nil, notFound("admin")
	}
	return other, nil
}

func (s *Server) deleteAdmin(ctx context.Context, a *store.Admin, id int64) error {
	other, err := s.adminFor(ctx, a, id)
	if err != nil {
		return err
	}
	if other.ID == a.ID {
		return store.Errorf(store.EINVALID, "you cannot delete your own account while logged in with it")
	}
	if err := s.db.DeleteAdmin(ctx, id); err != nil {
		return err
	}
	s.log.Info("admin account deleted", "by", a.Username, "user", other.Username)
	s.record(ctx, a, other.TenantID, "admin deleted", other.Username)
	return nil
}
