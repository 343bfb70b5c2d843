package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"deskpbx/store"
)

// liveView is what the live tables show, already limited to what the
// admin may see.
type liveView struct {
	Admin         *store.Admin
	CSRF          string
	Counts        counts
	Registrations []registration
	Calls         []Call
	Seats         []Seat
	HotDesk       bool
	Hotdesk       *hotdeskData // the Hot Desking table, when asked for

	// Outside lines (outside.go).
	Trunks      []trunkRow
	NoEmergency []string // tenants whose emergency calls cannot go out: no working trunk
	Emergencies []emergencyRow
}

type counts struct {
	Tenants, Extensions, Registrations, Calls, Seated int
}

// liveData gathers the live tables; hotdeskScope >= 0 adds the Hot
// Desking table of that tenant (0: all the admin may see).
func (s *Server) liveData(ctx context.Context, me *who, hotdeskScope int64) (*liveView, error) {
	a := me.admin
	v := &liveView{Admin: a, CSRF: me.csrf, HotDesk: s.hotdesk != nil}
	var err error
	if v.Registrations, err = s.registrations(ctx, a); err != nil {
		return nil, err
	}
	v.Calls = s.calls(a)
	if err := s.outsideLines(ctx, a, v); err != nil {
		return nil, err
	}
	if s.hotdesk != nil {
		if v.Seats, err = s.seats(ctx, a); err != nil {
			return nil, err
		}
		if hotdeskScope >= 0 {
			if v.Hotdesk, err = s.hotdeskView(ctx, me, hotdeskScope); err != nil {
				return nil, err
			}
		}
	}
	ext, err := s.db.ExtensionCounts(ctx)
	if err != nil {
		return nil, err
	}
	for tenant, n := range ext {
		if a.System() || tenant == a.TenantID {
			v.Counts.Extensions += n
		}
	}
	if a.System() {
		ts, err := s.db.Tenants(ctx)
		if err != nil {
			return nil, err
		}
		v.Counts.Tenants = len(ts)
	} else {
		v.Counts.Tenants = 1
	}
	v.Counts.Registrations = len(v.Registrations)
	v.Counts.Calls = len(v.Calls)
	v.Counts.Seated = len(v.Seats)
	return v, nil
}

// liveTopics are the sections a page can ask to keep current, each a
// template in _live.html.
var liveTopics = map[string]string{
	"counts":        "live-counts",
	"registrations": "live-registrations",
	"calls":         "live-calls",
	"seats":         "live-seats",
	"hotdesk":       "live-hotdesk",
	"trunks":        "live-trunks",
	"emergency":     "live-emergency",
}

// events streams the live sections a page shows (?topics=a,b) as
// Server-Sent Events: each event is one section's HTML, sent when it
// changed. Rendering on the server keeps escaping in html/template and
// the page's script a dozen lines.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	me := whoFrom(r.Context())
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	var topics []string
	hotdeskScope := int64(-1)
	for _, t := range strings.Split(r.URL.Query().Get("topics"), ",") {
		if _, ok := liveTopics[t]; ok {
			topics = append(topics, t)
		}
		if t == "hotdesk" && s.hotdesk != nil {
			scope, err := s.scopeTenant(r.Context(), me.admin, tenantParam(r))
			if err != nil {
				s.failed(w, r, err)
				return
			}
			hotdeskScope = scope
		}
	}
	if len(topics) == 0 {
		http.Error(w, "no known topics", http.StatusBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// Reverse proxies must not hold events back in a buffer.
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 3000\n\n")
	flusher.Flush()

	sent := map[string]string{}
	tick := time.NewTicker(s.cfg.LiveInterval)
	defer tick.Stop()
	lastCheck, lastWrite := time.Now(), time.Now()
	for {
		// The session may end while the stream is open (logout elsewhere,
		// password change, idle expiry): the page then goes to login.
		if time.Since(lastCheck) > 30*s.cfg.LiveInterval {
			lastCheck = time.Now()
			if _, err := s.db.AdminSession(r.Context(), me.session, s.cfg.IdleTimeout, s.cfg.MaxSessionAge); err != nil {
				fmt.Fprint(w, "event: logout\ndata: \n\n")
				flusher.Flush()
				return
			}
		}
		v, err := s.liveData(r.Context(), me, hotdeskScope)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.Warn("live update", "err", err)
			}
			return
		}
		wrote := false
		for _, t := range topics {
			html, err := s.renderFragment("dashboard", liveTopics[t], v)
			if err != nil {
				s.log.Error("rendering live section", "topic", t, "err", err)
				return
			}
			if sent[t] == html {
				continue
			}
			sent[t] = html
			writeEvent(w, t, html)
			wrote = true
		}
		if !wrote && time.Since(lastWrite) > 20*time.Second {
			// A comment keeps idle proxies and NAT from dropping the stream.
			fmt.Fprint(w, ": keep-alive\n\n")
			wrote = true
		}
		if wrote {
			lastWrite = time.Now()
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		case <-tick.C:
		}
	}
}

func writeEvent(w http.ResponseWriter, name, data string) {
	var b strings.Builder
	b.WriteString("event: ")
	b.WriteString(name)
	b.WriteByte('\n')
	for _, line := range strings.Split(data, "\n") {
		b.WriteString("data: ")
		b.WriteString(strings.TrimRight(line, "\r"))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	w.Write([]byte(b.String()))
}
