package hotdesk

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"deskpbx/store"
)

// heard keeps what the service reported: counts and session events.
type heard struct {
	logins   []string
	lockouts int
	events   []string
}

func (h *heard) HotdeskLogin(outcome string) { h.logins = append(h.logins, outcome) }
func (h *heard) HotdeskLockout()             { h.lockouts++ }

func listen(o *office) *heard {
	h := &heard{}
	o.s.SetMetrics(h)
	o.s.OnSession(func(e SessionEvent) {
		if e.Login {
			h.events = append(h.events, fmt.Sprintf("login %s at %s (id %s, from %q, replacing %q; tenants %d/%d)",
				e.Person, e.Seat, e.HotdeskID, e.MovedFrom, e.Replaced, e.PersonTenantID, e.SeatTenantID))
		} else {
			h.events = append(h.events, fmt.Sprintf("logout %s at %s: %s", e.Person, e.Seat, e.Reason))
		}
	})
	return h
}

// Every *072 attempt is counted by outcome, every lockout once, and
// every session that begins or ends is told, however it ends.
func TestLoginOutcomesLockoutsAndSessionEventsAreReported(t *testing.T) {
	o := newOffice(t)
	h := listen(o)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	o.hotdesker("2001@beta.example", "5552001", "")
	acme, beta := o.ext("1001").TenantID, o.ext("2001@beta.example").TenantID

	o.mustLogin("5551001", "5937", "1003")
	o.mustLogin("5551001", "5937", "1004")                                             // moves
	o.mustLogin("5551002", "6048", "1004")                                             // replaces 1001
	o.mustLogin("5552001", "4826", "1005")                                             // beta's person at acme's phone (voicemail PIN)
	o.login("5559999", "1234", "1006")                                                 // unknown ID
	o.login("5551001", "0000", "1006")                                                 // wrong password
	if _, err := o.s.Logout(o.ctx, "5551002", "6048", o.ext("1006"), ""); err != nil { // *073 from another phone
		t.Fatal(err)
	}
	for range IDAttempts - 1 { // the fifth failure locks the ID
		o.login("5551001", "0000", "1007")
	}
	if _, err := o.login("5551001", "5937", "1007"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("login on a locked ID: %v", err)
	}
	off := false
	o.settings("beta.example", store.HotdeskSettings{Login: &off})
	if _, err := o.login("5551001", "5937", "2002@beta.example"); !errors.Is(err, ErrNotEnabled) {
		t.Fatalf("login where *072 is off: %v", err)
	}
	if _, err := o.s.ForceLogout(o.ctx, "5552001", "admin"); err != nil {
		t.Fatal(err)
	}

	want := []string{"ok", "ok", "ok", "ok", "unknown_id", "wrong_pin", "wrong_pin", "wrong_pin", "wrong_pin", "wrong_pin", "locked", "disabled"}
	if !slices.Equal(h.logins, want) {
		t.Errorf("login outcomes %v, want %v", h.logins, want)
	}
	if h.lockouts != 1 {
		t.Errorf("%d lockouts counted, want 1", h.lockouts)
	}
	wantEvents := []string{
		fmt.Sprintf("login 1001@acme.example at 1003@acme.example (id 5551001, from \"\", replacing \"\"; tenants %d/%d)", acme, acme),
		fmt.Sprintf("login 1001@acme.example at 1004@acme.example (id 5551001, from \"1003@acme.example\", replacing \"\"; tenants %d/%d)", acme, acme),
		fmt.Sprintf("login 1002@acme.example at 1004@acme.example (id 5551002, from \"\", replacing \"1001@acme.example\"; tenants %d/%d)", acme, acme),
		"logout 1001@acme.example at 1004@acme.example: replaced",
		fmt.Sprintf("login 2001@beta.example at 1005@acme.example (id 5552001, from \"\", replacing \"\"; tenants %d/%d)", beta, acme),
		"logout 1002@acme.example at 1004@acme.example: *073",
		"logout 2001@beta.example at 1005@acme.example: force-logout",
	}
	if !slices.Equal(h.events, wantEvents) {
		t.Errorf("session events:\n%s\nwant:\n%s", joinLines(h.events), joinLines(wantEvents))
	}
}

// Sessions ended by the clock or by an admin's "everyone out" are told
// one by one.
func TestAutoLogoutAndLogoutAllAreReported(t *testing.T) {
	o := newOffice(t)
	h := listen(o)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	after := 8 * time.Hour
	o.settings("acme.example", store.HotdeskSettings{AutologoutAfter: &after})
	o.mustLogin("5551001", "5937", "1003")
	o.mustLogin("5551002", "6048", "1004")
	if n, err := o.s.AutoLogoutOnce(o.ctx, t0.Add(9*time.Hour)); n != 2 || err != nil {
		t.Fatalf("auto-logout ended %d (%v), want 2", n, err)
	}
	o.mustLogin("5551001", "5937", "1005")
	if n, err := o.s.ForceLogoutAll(o.ctx, 0, "admin"); n != 1 || err != nil {
		t.Fatalf("logout all ended %d (%v), want 1", n, err)
	}
	want := []string{"logout 1001@acme.example at 1003@acme.example: autologout", "logout 1002@acme.example at 1004@acme.example: autologout",
		"logout 1001@acme.example at 1005@acme.example: force-logout"}
	var got []string
	for _, e := range h.events {
		if strings.HasPrefix(e, "logout") {
			got = append(got, e)
		}
	}
	if len(got) == 3 {
		slices.Sort(got[:2]) // one transaction, in no particular order
	}
	if !slices.Equal(got, want) {
		t.Errorf("logout events %v, want %v", got, want)
	}
}

func joinLines(xs []string) string { return "  " + strings.Join(xs, "\n  ") }
