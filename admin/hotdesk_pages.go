package admin

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"deskpbx/store"
)

// The Hot Desking pages.

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

func (s *Server) hotdeskPage(c *call) error {
	requested := tenantParam(c.r)
	scope, err := s.scopeTenant(c.ctx, c.admin, requested)
	if err != nil {
		return err
	}
	live, err := s.liveData(c.ctx, c.me, scope)
	if err != nil {
		return err
	}
	d := live.Hotdesk
	d.TenantID = requested
	if c.admin.System() {
		if d.Tenants, err = s.db.Tenants(c.ctx); err != nil {
			return err
		}
	}
	s.render(c.w, c.r, http.StatusOK, "hotdesk", &page{Title: "Hot desking", Nav: "hotdesk", D: live})
	return nil
}

// hotdeskView is the live Hot Desking table of scope (0: all me may see).
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

func (s *Server) hotdeskNewPage(c *call) error {
	f := newForm(nil)
	f.Values["extension"] = c.r.URL.Query().Get("extension")
	return s.renderHotdeskForm(c, nil, f, http.StatusOK)
}

func (s *Server) renderHotdeskForm(c *call, h *store.HotdeskEntry, f *form, status int) error {
	d := hotdeskFormData{Entry: h, Form: f}
	title := "Add a hot-desk ID"
	if h != nil {
		title = "Hot desking of " + h.Person.AOR()
	} else {
		exts, err := s.db.Extensions(c.ctx, c.admin.TenantID)
		if err != nil {
			return err
		}
		entries, err := s.db.HotdeskEntries(c.ctx, c.admin.TenantID)
		if err != nil {
			return err
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
	s.render(c.w, c.r, status, "hotdesk_entry", &page{Title: title, Nav: "hotdesk", D: d})
	return nil
}

func (s *Server) hotdeskCreate(c *call) error {
	f := newForm(c.r)
	extID, _ := strconv.ParseInt(f.Values["extension"], 10, 64)
	h, err := s.createHotdesk(c, hotdeskInput{ExtensionID: extID, HotdeskID: f.Values["hotdesk_id"],
		PIN: f.Values["pin"], Description: f.Values["description"], DialOverride: f.Values["dial_override"]})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderHotdeskForm(c, nil, f, status) })
	}
	return c.redirect("/hotdesk", "Hot-desk ID added for "+h.Person.AOR()+".")
}

func (s *Server) hotdeskEditPage(c *call) error {
	h, err := s.entry(c)
	if err != nil {
		return err
	}
	f := newForm(nil).set("hotdesk_id", h.HotdeskID, "description", h.Description, "dial_override", h.DialOverride)
	return s.renderHotdeskForm(c, h, f, http.StatusOK)
}

func (s *Server) hotdeskUpdate(c *call) error {
	h, err := s.entry(c)
	if err != nil {
		return err
	}
	f := newForm(c.r)
	hid, desc, dial := f.Values["hotdesk_id"], f.Values["description"], f.Values["dial_override"]
	_, err = s.updateHotdesk(c, hotdeskChange{HotdeskID: &hid, Description: &desc,
		PIN: f.Values["pin"], ClearPIN: f.Values["clear_pin"] != "", DialOverride: &dial})
	if err != nil {
		return c.refused(f, err, func(status int) error { return s.renderHotdeskForm(c, h, f, status) })
	}
	return c.redirect("/hotdesk", "Hot desking of "+h.Person.AOR()+" saved.")
}

func (s *Server) hotdeskDelete(c *call) error {
	h, err := s.deleteHotdesk(c)
	if err != nil {
		return err
	}
	return c.redirect("/hotdesk", "Hot-desk ID of "+h.Person.AOR()+" removed.")
}

func (s *Server) hotdeskForceLogout(c *call) error {
	h, ended, err := s.forceLogout(c)
	if err != nil {
		return err
	}
	return c.redirectSaying("/hotdesk", ended, h.Person.AOR()+" logged out.", h.Person.AOR()+" was not seated anywhere.")
}

func (s *Server) hotdeskUnlock(c *call) error {
	h, was, err := s.unlockID(c)
	if err != nil {
		return err
	}
	what := "The hot-desk ID of " + h.Person.AOR()
	return c.redirectSaying("/hotdesk", was, what+" is unlocked.", what+" was not locked.")
}

func (s *Server) hotdeskSeatUnlock(c *call) error {
	e, was, err := s.unlockSeat(c)
	if err != nil {
		return err
	}
	what := "The phone " + e.AOR()
	return c.redirectSaying("/hotdesk", was, what+" is unlocked.", what+" was not locked.")
}

func (s *Server) hotdeskLogoutAll(c *call) error {
	tenantID, _ := strconv.ParseInt(c.r.PostFormValue("tenant"), 10, 64)
	n, err := s.logoutAll(c, tenantID)
	if err != nil {
		return err
	}
	to := "/hotdesk"
	if tenantID != 0 {
		to += "?tenant=" + strconv.FormatInt(tenantID, 10)
	}
	return c.redirect(to, fmt.Sprintf("Logged out %d hot-desk sessions.", n))
}
