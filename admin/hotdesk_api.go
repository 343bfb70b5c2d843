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
	RingTarget   string     `json:"dial_string,omitempty"`
	DialOverride string     `json:"dial_override,omitempty"`
	Description  string     `json:"description"`
	Locked       bool       `json:"locked"`
}

func (s *Server) toAPIHotdesk(h *store.HotdeskEntry) apiHotdesk {
	out := apiHotdesk{ExtensionID: h.Person.ID, Extension: h.Person.AOR(), Name: h.Person.DisplayName, HotdeskID: h.HotdeskID,
		HasOwnPIN: h.PINHash != "", SeatedAt: h.Seat, RingTarget: h.RingTarget(), DialOverride: h.DialOverride,
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
	return answerList(c, entries, err, s.toAPIHotdesk)
}

func (s *Server) apiHotdeskGet(c *call) error {
	h, err := s.entry(c)
	return answer(c, http.StatusOK, h, err, s.toAPIHotdesk)
}

func (s *Server) apiHotdeskCreate(c *call) error {
	return decoded(c, http.StatusCreated, s.createHotdesk, s.toAPIHotdesk)
}

func (s *Server) apiHotdeskUpdate(c *call) error {
	if _, err := s.entry(c); err != nil {
		return err
	}
	return decoded(c, http.StatusOK, s.updateHotdesk, s.toAPIHotdesk)
}

func (s *Server) apiHotdeskDelete(c *call) error {
	_, err := s.deleteHotdesk(c)
	return c.done(err)
}

func (s *Server) apiHotdeskLogout(c *call) error {
	_, ended, err := s.forceLogout(c)
	return answer(c, http.StatusOK, ended, err, flag("logged_out"))
}

func (s *Server) apiHotdeskUnlock(c *call) error {
	_, was, err := s.unlockID(c)
	return answer(c, http.StatusOK, was, err, flag("was_locked"))
}

// apiHotdeskSeatUnlock lifts the lockout of a phone; {id} is the phone's
// own extension.
func (s *Server) apiHotdeskSeatUnlock(c *call) error {
	_, was, err := s.unlockSeat(c)
	return answer(c, http.StatusOK, was, err, flag("was_locked"))
}

func (s *Server) apiHotdeskLogoutAll(c *call) error {
	n, err := s.logoutAll(c, tenantParam(c.r))
	return answer(c, http.StatusOK, n, err, func(n int) map[string]int { return map[string]int{"logged_out": n} })
}

type apiSeat struct {
	Person string    `json:"person"`
	Seat   string    `json:"seat"`
	Since  time.Time `json:"since"`
	How    string    `json:"how"`
}

func toAPISeat(x Seat) apiSeat {
	return apiSeat{Person: x.Person, Seat: x.Device, Since: x.Since, How: x.How}
}

func (s *Server) apiHotdeskSessions(c *call) error {
	seats, err := s.seats(c.ctx, c.admin)
	return answerList(c, seats, err, toAPISeat)
}

// flag answers a yes/no outcome as {"name": true|false}.
func flag(name string) func(bool) map[string]bool {
	return func(b bool) map[string]bool { return map[string]bool{name: b} }
}
