package admin

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// Registrations and calls: the live side, as the PBX reports it, limited
// to what the admin may see.

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
	bs := s.pbx.Bindings()
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
func (s *Server) calls(a *store.Admin) []Call {
	all := s.pbx.Calls()
	if a.System() {
		return all
	}
	var out []Call
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

func (s *Server) hangup(c *call, id string) error {
	for _, x := range s.calls(c.admin) {
		if x.ID == id {
			if !s.pbx.Hangup(c.ctx, id) {
				return notFound("call")
			}
			s.log.Info("admin hung up a call", "admin", c.admin.Username, "call_id", x.CallID)
			s.record(c.ctx, c.admin, c.admin.TenantID, "call hung up", x.Caller+" to "+x.Callee)
			return nil
		}
	}
	return notFound("call")
}

// The pages.

// livePage renders a page made of live tables only.
func (s *Server) livePage(name, title string) http.HandlerFunc {
	return s.page(func(c *call) error {
		live, err := s.liveData(c.ctx, c.me, -1)
		if err != nil {
			return err
		}
		s.render(c.w, c.r, http.StatusOK, name, &page{Title: title, Nav: name, D: live})
		return nil
	})
}

func (s *Server) callHangup(c *call) error {
	if err := s.hangup(c, c.r.PostFormValue("id")); err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			// The call may simply have ended meanwhile.
			return c.redirect("/calls", "That call has already ended.")
		}
		return err
	}
	return c.redirect(safeNext(c.r.PostFormValue("next")), "Call hung up.")
}

// The API.

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

func (s *Server) apiRegistrations(c *call) error {
	regs, err := s.registrations(c.ctx, c.admin)
	now := s.db.Now()
	return answerList(c, regs, err, func(g registration) apiRegistration {
		return apiRegistration{ExtensionID: g.ExtensionID, AOR: g.AOR, Contact: g.Contact, Source: g.Source, Transport: g.Transport,
			UserAgent: g.UserAgent, Expires: g.Expires, ExpiresIn: int(g.Expires.Sub(now).Seconds())}
	})
}

type apiCall struct {
	ID       string     `json:"id"`
	From     string     `json:"from"`
	As       string     `json:"as"`
	To       string     `json:"to"`
	Started  time.Time  `json:"started_at"`
	Answered *time.Time `json:"answered_at,omitempty"`
	// Set when the call was transferred or picked up (AORs).
	TransferredBy string `json:"transferred_by,omitempty"`
	TransferredTo string `json:"transferred_to,omitempty"`
	PickedUpBy    string `json:"picked_up_by,omitempty"`
}

func (s *Server) apiCalls(c *call) error {
	return answerList(c, s.calls(c.admin), nil, toAPICall)
}

func toAPICall(x Call) apiCall {
	out := apiCall{ID: x.ID, From: x.Caller, As: x.As, To: x.Callee, Started: x.Started,
		TransferredBy: x.TransferredBy, TransferredTo: x.TransferredTo, PickedUpBy: x.PickedUpBy}
	if !x.Answered.IsZero() {
		out.Answered = &x.Answered
	}
	return out
}

// apiHangup takes the call's ID from the calls list (an opaque handle,
// not its Call-ID), path-escaped.
func (s *Server) apiHangup(c *call) error {
	id, err := url.PathUnescape(chi.URLParam(c.r, "callid"))
	if err != nil {
		return store.Errorf(store.ENOTFOUND, "no such call")
	}
	return c.done(s.hangup(c, id))
}
