package admin

import (
	"context"
	"strings"
	"time"

	"deskpbx/store"
)

// HotDesk is the hot-desk service, the one owner of every hot-desk
// write: the admin page reads hot-desk state from the database but
// changes it only through here. *hotdesk.Service is one.
type HotDesk interface {
	CreateEntry(ctx context.Context, n store.NewHotdeskEntry, actor string) (*store.HotdeskEntry, error)
	UpdateEntry(ctx context.Context, id string, u store.HotdeskEntryUpdate, actor string) (*store.HotdeskEntry, error)
	DeleteEntry(ctx context.Context, id, actor string) error
	CreateTenant(ctx context.Context, domain, pin string, makeDefault bool, actor string) (*store.Tenant, error)
	UpdateTenant(ctx context.Context, domain string, u store.TenantUpdate, actor string) (*store.Tenant, error)
	ForceLogout(ctx context.Context, id, actor string) (*store.HotdeskSession, error)
	ForceLogoutAll(ctx context.Context, tenantID int64, actor string) (int, error)
	Unlock(ctx context.Context, id, actor string) (bool, error)
	UnlockSeat(ctx context.Context, seat *store.Extension, actor string) (bool, error)
	IDChoiceLocked(ctx context.Context, tenantID int64) (bool, error)
	IDClashed(ctx context.Context, tenantID int64, actor string) error
}

// The operations of hot desking's pages and API. An entry is addressed by
// its extension's ID, so the hot-desk ID, half of a login, never appears
// in a URL or an access log.

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

// entry returns the hot-desk entry of the route's extension if c's admin
// may see it.
func (s *Server) entry(c *call) (*store.HotdeskEntry, error) {
	if _, err := s.extensionFor(c.ctx, c.admin, c.id); err != nil {
		return nil, err
	}
	return s.db.HotdeskEntryOf(c.ctx, c.id)
}

type hotdeskInput struct {
	ExtensionID  int64  `json:"extension_id"`
	HotdeskID    string `json:"hotdesk_id"`
	PIN          string `json:"password"`
	Description  string `json:"description"`
	DialOverride string `json:"dial_override"` // AOR, "" for none
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
		example := a.Domain
		if example == "" {
			example = "acme.example"
		}
		return store.Errorf(store.EINVALID, "dial string must be NUMBER@DOMAIN, e.g. 1002@%s", example)
	}
	t, err := s.db.TenantByDomain(ctx, domain)
	if err == nil && (a.System() || t.ID == a.TenantID) {
		if _, err = s.db.ExtensionByNumber(ctx, t.ID, number); err == nil {
			return nil
		}
	}
	return store.Errorf(store.EINVALID, "no extension %s", aor)
}

func (s *Server) createHotdesk(c *call, in hotdeskInput) (*store.HotdeskEntry, error) {
	if in.ExtensionID == 0 {
		return nil, invalid{"extension": "Choose the extension"}
	}
	e, err := s.extensionFor(c.ctx, c.admin, in.ExtensionID)
	if err != nil {
		return nil, err
	}
	in.HotdeskID = strings.TrimSpace(in.HotdeskID)
	bad := invalid{}
	if _, err := s.db.HotdeskEntryOf(c.ctx, e.ID); err == nil {
		bad["extension"] = "Extension " + e.Number + " already has a hot-desk ID"
	}
	bad.check("hotdesk_id", store.ValidHotdeskID(in.HotdeskID))
	if in.PIN != "" {
		bad.check("pin", store.ValidHotdeskPIN(in.PIN, e.Number, in.HotdeskID))
	}
	_, err = store.CleanDescription(in.Description)
	bad.check("description", err)
	bad.check("dial_override", s.checkDialOverride(c.ctx, c.admin, in.DialOverride))
	if err := bad.err(); err != nil {
		return nil, err
	}
	if err := s.idChoiceRefused(c); err != nil {
		return nil, err
	}
	h, err := s.hotdesk.CreateEntry(c.ctx, store.NewHotdeskEntry{Domain: e.Domain, Number: e.Number, HotdeskID: in.HotdeskID,
		PIN: in.PIN, Description: in.Description, DialOverride: in.DialOverride}, actor(c.admin))
	if err != nil {
		return nil, s.hotdeskStoreError(c, err)
	}
	s.log.Info("hot-desk ID added", "admin", c.admin.Username, "extension", e.AOR())
	return h, nil
}

// idInUse is a tenant admin's answer to any hot-desk ID they may not
// have, whoever holds it (see hotdesk.IDClashes).
const idInUse = "This hot-desk ID is already in use; choose another"

// hotdeskStoreError puts a store refusal beside its field. IDs are unique
// across tenants, so a tenant admin is told of a clash only idInUse, and
// a clash with another tenant's ID spends their tenant's budget; a
// system admin is told whose the ID is.
func (s *Server) hotdeskStoreError(c *call, err error) error {
	if store.ErrorCode(err) != store.ECONFLICT || store.FieldOf(err) != "hotdesk_id" {
		return fieldError(err, "hotdesk_id")
	}
	holder, elsewhere := store.HolderOfAnotherTenant(err)
	if elsewhere && c.admin.System() {
		return invalid{"hotdesk_id": "This hot-desk ID is already in use by " + holder + " of another tenant; choose another"}
	}
	if elsewhere {
		if err := s.hotdesk.IDClashed(c.ctx, c.admin.TenantID, actor(c.admin)); err != nil {
			return err
		}
	}
	return invalid{"hotdesk_id": idInUse}
}

// idChoiceRefused refuses, as idInUse, any ID a tenant admin offers
// once their tenant's budget of clashes is spent.
func (s *Server) idChoiceRefused(c *call) error {
	if c.admin.System() {
		return nil
	}
	locked, err := s.hotdesk.IDChoiceLocked(c.ctx, c.admin.TenantID)
	if err != nil || !locked {
		return err
	}
	return invalid{"hotdesk_id": idInUse}
}

type hotdeskChange struct {
	HotdeskID    *string `json:"hotdesk_id"`
	Description  *string `json:"description"`
	PIN          string  `json:"password"`
	ClearPIN     bool    `json:"clear_password"`
	DialOverride *string `json:"dial_override"` // "" removes it
}

func (s *Server) updateHotdesk(c *call, ch hotdeskChange) (*store.HotdeskEntry, error) {
	h, err := s.entry(c)
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
		_, err := store.CleanDescription(*ch.Description)
		bad.check("description", err)
	}
	if ch.PIN != "" {
		bad.check("pin", store.ValidHotdeskPIN(ch.PIN, h.Person.Number, newID))
	}
	if ch.DialOverride != nil {
		bad.check("dial_override", s.checkDialOverride(c.ctx, c.admin, *ch.DialOverride))
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	u := store.HotdeskEntryUpdate{Description: ch.Description, DialOverride: ch.DialOverride}
	if newID != h.HotdeskID {
		if err := s.idChoiceRefused(c); err != nil {
			return nil, err
		}
		u.HotdeskID = &newID
	}
	switch {
	case ch.PIN != "":
		u.PIN = &ch.PIN
	case ch.ClearPIN:
		u.PIN = new(string)
	}
	h, err = s.hotdesk.UpdateEntry(c.ctx, h.HotdeskID, u, actor(c.admin))
	if err != nil {
		return nil, s.hotdeskStoreError(c, err)
	}
	s.log.Info("hot-desk entry changed", "admin", c.admin.Username, "extension", h.Person.AOR())
	return h, nil
}

func (s *Server) deleteHotdesk(c *call) (*store.HotdeskEntry, error) {
	h, err := s.entry(c)
	if err != nil {
		return nil, err
	}
	if err := s.hotdesk.DeleteEntry(c.ctx, h.HotdeskID, actor(c.admin)); err != nil {
		return nil, err
	}
	s.log.Info("hot-desk ID removed", "admin", c.admin.Username, "extension", h.Person.AOR())
	return h, nil
}

// forceLogout ends the route's person's session; false if not seated.
func (s *Server) forceLogout(c *call) (*store.HotdeskEntry, bool, error) {
	h, err := s.entry(c)
	if err != nil {
		return nil, false, err
	}
	sess, err := s.hotdesk.ForceLogout(c.ctx, h.HotdeskID, actor(c.admin))
	return h, sess != nil, err
}

// unlockID lifts the lockout of the route's person's hot-desk ID.
func (s *Server) unlockID(c *call) (*store.HotdeskEntry, bool, error) {
	h, err := s.entry(c)
	if err != nil {
		return nil, false, err
	}
	was, err := s.hotdesk.Unlock(c.ctx, h.HotdeskID, actor(c.admin))
	return h, was, err
}

// unlockSeat lifts the lockout of the phone registered as the route's
// extension: after ten wrong tries of *072 or *073 a phone is locked.
func (s *Server) unlockSeat(c *call) (*store.Extension, bool, error) {
	e, err := s.extensionFor(c.ctx, c.admin, c.id)
	if err != nil {
		return nil, false, err
	}
	was, err := s.hotdesk.UnlockSeat(c.ctx, e, actor(c.admin))
	return e, was, err
}

// logoutAll ends every session of a tenant: c's admin's own, or for a
// system admin the one asked for (0: every tenant).
func (s *Server) logoutAll(c *call, tenantID int64) (int, error) {
	scope, err := s.scopeTenant(c.ctx, c.admin, tenantID)
	if err != nil {
		return 0, err
	}
	n, err := s.hotdesk.ForceLogoutAll(c.ctx, scope, actor(c.admin))
	if err == nil {
		s.log.Info("hot-desk: everyone logged out", "admin", c.admin.Username, "tenant_id", scope, "sessions", n)
	}
	return n, err
}
