package admin

import (
	"net/http"
	"time"

	"deskpbx/store"
)

// The hot-desk part of the JSON API; {id} is the person's extension, as
// in the pages' URLs.

// apiHotdesk is an entry in the API.
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

func (s *Server) apiHotdeskList(c *call) error {
	scope, err := s.scopeTenant(c.ctx, c.admin, tenantParam(c.r))
	if err != nil {
		return err
	}
	entries, err := s.db.HotdeskEntries(c.ctx, scope)
	if err != nil {
		return err
	}
	out := make([]apiHotdesk, len(entries))
	for i, h := range entries {
		out[i] = s.toAPIHotdesk(h)
	}
	return c.json(http.StatusOK, out)
}

func (s *Server) apiHotdeskGet(c *call) error {
	h, err := s.entry(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskCreate(c *call) error {
	var in struct {
		ExtensionID  int64  `json:"extension_id"`
		HotdeskID    string `json:"hotdesk_id"`
		PIN          string `json:"password"`
		Description  string `json:"description"`
		DialOverride string `json:"dial_override"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	h, err := s.createHotdesk(c, hotdeskInput(in))
	if err != nil {
		return err
	}
	return c.json(http.StatusCreated, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskUpdate(c *call) error {
	if _, err := s.entry(c); err != nil {
		return err
	}
	var in struct {
		HotdeskID    *string `json:"hotdesk_id"`
		Description  *string `json:"description"`
		PIN          string  `json:"password"`
		ClearPIN     bool    `json:"clear_password"`
		DialOverride *string `json:"dial_override"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	h, err := s.updateHotdesk(c, hotdeskChange(in))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, s.toAPIHotdesk(h))
}

func (s *Server) apiHotdeskDelete(c *call) error {
	if _, err := s.deleteHotdesk(c); err != nil {
		return err
	}
	return c.noContent()
}

func (s *Server) apiHotdeskLogout(c *call) error {
	_, ended, err := s.forceLogout(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]bool{"logged_out": ended})
}

func (s *Server) apiHotdeskUnlock(c *call) error {
	_, was, err := s.unlockID(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]bool{"was_locked": was})
}

// apiHotdeskSeatUnlock lifts the lockout of a phone; {id} is the phone's
// own extension.
func (s *Server) apiHotdeskSeatUnlock(c *call) error {
	_, was, err := s.unlockSeat(c)
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]bool{"was_locked": was})
}

func (s *Server) apiHotdeskLogoutAll(c *call) error {
	n, err := s.logoutAll(c, tenantParam(c.r))
	if err != nil {
		return err
	}
	return c.json(http.StatusOK, map[string]int{"logged_out": n})
}

type apiSeat struct {
	Person string    `json:"person"`
	Seat   string    `json:"seat"`
	Since  time.Time `json:"since"`
	How    string    `json:"how"`
}

func (s *Server) apiHotdeskSessions(c *call) error {
	seats, err := s.seats(c.ctx, c.admin)
	if err != nil {
		return err
	}
	out := make([]apiSeat, len(seats))
	for i, x := range seats {
		out[i] = apiSeat{Person: x.Person, Seat: x.Device, Since: x.Since, How: x.How}
	}
	return c.json(http.StatusOK, out)
}
