package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"deskpbx/store"
)

// Extensions: the phone numbers of a tenant and their SIP credentials.

// extensionInput is a new extension as the form and the API give it.
type extensionInput struct {
	TenantID int64  `json:"tenant_id"`
	Domain   string `json:"domain"` // alternative to TenantID, as in the CLI and CSV
	Number   string `json:"number"`
	Password string `json:"password"`
	PIN      string `json:"pin"`
	Name     string `json:"name"`
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

func (s *Server) createExtension(c *call, in extensionInput) (*store.Extension, error) {
	t, err := s.resolveTenant(c.ctx, c.admin, in.TenantID, in.Domain)
	if err != nil {
		return nil, err
	}
	if err := checkExtension(in, t.Domain); err != nil {
		return nil, err
	}
	e, err := s.db.CreateExtension(c.ctx, store.NewExtension{Domain: t.Domain, Number: in.Number, Password: in.Password, PIN: in.PIN, Name: in.Name})
	if store.ErrorCode(err) == store.ECONFLICT {
		return nil, invalid{"number": "Extension " + strings.TrimSpace(in.Number) + " already exists"}
	}
	if err == nil {
		s.log.Info("extension added", "admin", c.admin.Username, "extension", e.AOR())
	}
	return e, err
}

type extensionChange struct {
	Name     *string `json:"name"`
	Password string  `json:"password"`
	PIN      string  `json:"pin"`
	ClearPIN bool    `json:"clear_pin"`
}

func (s *Server) updateExtension(c *call, ch extensionChange) (*store.Extension, error) {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
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
	e, err = s.db.UpdateExtension(c.ctx, e.ID, store.ExtensionUpdate{Name: ch.Name, Password: ch.Password, PIN: ch.PIN, ClearPIN: ch.ClearPIN})
	if err == nil {
		s.log.Info("extension changed", "admin", c.admin.Username, "extension", e.AOR(),
			"password_changed", ch.Password != "", "pin_changed", ch.PIN != "" || ch.ClearPIN)
	}
	return e, err
}

func (s *Server) deleteExtension(c *call) (*store.Extension, error) {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, err
	}
	if err := s.db.DeleteExtension(c.ctx, e.ID); err != nil {
		return nil, err
	}
	s.log.Info("extension deleted", "admin", c.admin.Username, "extension", e.AOR())
	return e, nil
}

// registeredCounts is how many live registrations each extension has.
func (s *Server) registeredCounts() map[int64]int {
	out := map[int64]int{}
	for _, b := range s.pbx.Bindings() {
		out[b.ExtensionID]++
	}
	return out
}

// The pages.

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

// extensions lists the extensions of the ?tenant= asked for, as c's
// admin may see them.
func (s *Server) extensions(c *call) ([]*store.Extension, error) {
	tenantID, err := s.scopeTenant(c.ctx, c.admin, tenantParam(c.r))
	if err != nil {
		return nil, err
	}
	return s.db.Extensions(c.ctx, tenantID)
}

func (s *Server) extensionsPage(c *call) error {
	exts, err := s.extensions(c)
	if err != nil {
		return err
	}
	registered := s.registeredCounts()
	q := strings.TrimSpace(c.r.URL.Query().Get("q"))
	data := extensionsData{TenantID: tenantParam(c.r), Query: q}
	for _, e := range exts {
		if q != "" && !strings.Contains(e.Number, q) && !strings.Contains(strings.ToLower(e.DisplayName), strings.ToLower(q)) {
			continue
		}
		data.Extensions = append(data.Extensions, extensionRow{Extension: e, Registered: registered[e.ID]})
	}
	if c.admin.System() {
		if data.Tenants, err = s.db.Tenants(c.ctx); err != nil {
			return err
		}
	}
	s.render(c.w, c.r, http.StatusOK, "extensions", &page{Title: "Extensions", Nav: "extensions", D: data})
	return nil
}

type extensionFormData struct {
	Extension *store.Extension // nil when adding
	Tenants   []*store.Tenant
	Form      *form
}

func (s *Server) extensionNewPage(c *call) error {
	f := newForm(nil)
	if t := c.r.URL.Query().Get("tenant"); t != "" {
		f.Values["tenant"] = t
	}
	return s.renderExtensionForm(c, nil, f, http.StatusOK)
}

func (s *Server) renderExtensionForm(c *call, e *store.Extension, f *form, status int) error {
	ts, err := s.tenantsFor(c.ctx, c.admin)
	if err != nil {
		return err
	}
	title := "Add an extension"
	if e != nil {
		title = "Extension " + e.AOR()
	}
	s.render(c.w, c.r, status, "extension", &page{Title: title, Nav: "extensions", D: extensionFormData{Extension: e, Tenants: ts, Form: f}})
	return nil
}

func (s *Server) extensionCreate(c *call) error {
	f := newForm(c.r)
	tenantID, _ := strconv.ParseInt(f.Values["tenant"], 10, 64)
	e, err := s.createExtension(c, extensionInput{TenantID: tenantID, Number: f.Values["number"],
		Password: f.Values["password"], PIN: f.Values["pin"], Name: f.Values["name"]})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderExtensionForm(c, nil, f, status) })
	}
	return c.redirect(fmt.Sprintf("/extensions?tenant=%d", e.TenantID), "Extension "+e.AOR()+" added.")
}

func (s *Server) extensionPage(c *call) error {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
	if err != nil {
		return err
	}
	return s.renderExtensionForm(c, e, newForm(nil).set("name", e.DisplayName), http.StatusOK)
}

func (s *Server) extensionUpdate(c *call) error {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
	if err != nil {
		return err
	}
	f := newForm(c.r)
	name := f.Values["name"]
	e2, err := s.updateExtension(c, extensionChange{Name: &name, Password: f.Values["password"],
		PIN: f.Values["pin"], ClearPIN: f.Values["clear_pin"] != ""})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderExtensionForm(c, e, f, status) })
	}
	return c.redirect(fmt.Sprintf("/extensions?tenant=%d", e2.TenantID), "Extension "+e2.AOR()+" saved.")
}

func (s *Server) extensionDelete(c *call) error {
	e, err := s.deleteExtension(c)
	if err != nil {
		return err
	}
	return c.redirect(fmt.Sprintf("/extensions?tenant=%d", e.TenantID), "Extension "+e.AOR()+" deleted.")
}

// The API.

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

func toAPIExtension(e *store.Extension, registered map[int64]int) apiExtension {
	return apiExtension{ID: e.ID, TenantID: e.TenantID, Domain: e.Domain, Number: e.Number, Name: e.DisplayName,
		HasPIN: e.PINHash != "", Registered: registered[e.ID], Created: e.CreatedAt}
}

// toAPIExtensions converts extensions with their registration counts.
func (s *Server) toAPIExtensions() func(*store.Extension) apiExtension {
	reg := s.registeredCounts()
	return func(e *store.Extension) apiExtension { return toAPIExtension(e, reg) }
}

func (s *Server) apiExtensions(c *call) error {
	exts, err := s.extensions(c)
	return answerList(c, exts, err, s.toAPIExtensions())
}

func (s *Server) apiExtension(c *call) error {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
	return answer(c, http.StatusOK, e, err, s.toAPIExtensions())
}

func (s *Server) apiExtensionCreate(c *call) error {
	return decoded(c, http.StatusCreated, s.createExtension, s.toAPIExtensions())
}

func (s *Server) apiExtensionUpdate(c *call) error {
	if _, err := s.extensionFor(c.ctx, c.admin, c.id); err != nil {
		return err
	}
	return decoded(c, http.StatusOK, s.updateExtension, s.toAPIExtensions())
}

func (s *Server) apiExtensionDelete(c *call) error {
	_, err := s.deleteExtension(c)
	return c.done(err)
}
