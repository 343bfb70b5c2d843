package pbx

import (
	"context"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/internal/rtppcap"
	"deskpbx/store"
)

// hotdeskOffice is newOffice with hot desking wired as the binary wires
// it: 1001 (Ada) may hot-desk with ID 5551234 and PIN 4826, and a second
// tenant beta.example has 2001 (Bea, ID 7770001, PIN 3141) and 2002.
func hotdeskOffice(t *testing.T) (*office, *hotdesk.Service) {
	t.Helper()
	o := newOffice(t)
	ctx := context.Background()
	if _, err := o.db.CreateTenant(ctx, "beta.example", "", false); err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.NewExtension{
		{Domain: "beta.example", Number: "2001", Password: "pw-2001-x", Name: "Bea Beta"},
		{Domain: "beta.example", Number: "2002", Password: "pw-2002-x", Name: "Bob Beta"},
	} {
		if _, err := o.db.CreateExtension(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []store.NewHotdeskEntry{
		{Domain: "acme.example", Number: "1001", HotdeskID: "5551234", PIN: "4826"},
		{Domain: "beta.example", Number: "2001", HotdeskID: "7770001", PIN: "3141"},
	} {
		if _, err := o.db.CreateHotdeskEntry(ctx, h, "test"); err != nil {
			t.Fatal(err)
		}
	}
	hd := hotdesk.New(o.db, testLogger())
	o.wire = func(s *Server) {
		s.SetSeating(hd)
		s.HandleFeature("*072", func(ctx context.Context, fc *FeatureCall) { hd.LoginFlow(ctx, fc, fc.Caller, fc.Source) })
		s.HandleFeature("*073", func(ctx context.Context, fc *FeatureCall) { hd.LogoutFlow(ctx, fc, fc.Caller, fc.Source) })
	}
	o.stop()
	o.start()
	return o, hd
}

// keyIn dials a feature code at p, types keys as RFC 4733 events and
// waits until the PBX hangs up.
func (p *phone) keyIn(t *testing.T, code, keys string) {
	t.Helper()
	m := newRTPPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := p.dialFeature(ctx, code, m)
	if err != nil {
		t.Fatalf("%s dials %s: %v", p.user, code, err)
	}
	m.answered(t, call.InviteResponse.Body())
	pkts, err := rtppcap.RFC4733Digits(keys, 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.play(pkts)
	waitForLong(t, p.byes, "the PBX to hang up after "+code)
	if rms, n := m.audioRMS(); n < 25 || rms < 0.01 {
		t.Fatalf("%s heard %d packets at RMS %.4f during %s: want spoken prompts", p.user, n, rms, code)
	}
}

func waitForLong[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(40 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// rings places a call from caller to number and says which of phones
// answered it and what caller ID it was shown; then hangs up.
func rings(t *testing.T, caller *phone, number string, phones ...*phone) (rang *phone, fromUser, fromName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.dial(ctx, number)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.user, number, err)
	}
	// The answering phone queued the INVITE before it sent 200.
	for _, p := range phones {
		select {
		case in := <-p.incoming:
			rang, fromUser, fromName = p, in.req.From().Address.User, in.req.From().DisplayName
		default:
		}
	}
	if rang == nil {
		t.Fatalf("call from %s to %s was answered by none of the phones watched", caller.user, number)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	waitFor(t, rang.byes, "BYE at the phone that rang")
	return rang, fromUser, fromName
}

func TestHotDeskLoginMovesCallsAndCallerIDAtOnce(t *testing.T) {
	o, hd := hotdeskOffice(t)
	adaHome, grace, desk := o.phone("1001"), o.phone("1002"), o.phone("1003")
	for _, p := range []*phone{adaHome, grace, desk} {
		p.register()
	}
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("before login, 1001 did not ring Ada's own phone")
	}

	desk.keyIn(t, "*072", "5551234#4826#")

	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != desk {
		t.Fatalf("after login, a call to 1001 rang %s, want the seat 1003", p.user)
	}
	if _, user, name := rings(t, desk, "1002", grace); user != "1001" || name != "Ada Lovelace" {
		t.Fatalf("after login, the seat calls out as %q <%s>, want Ada Lovelace <1001> (no re-register)", name, user)
	}
	if p, _, _ := rings(t, grace, "1003", adaHome, desk); p != desk {
		t.Fatal("the seat's own number no longer rings the seat")
	}
	if st := hd.Stats(); st.Count != 1 {
		t.Fatalf("latency stats count %d, want 1 login", st.Count)
	}

	desk.keyIn(t, "*073", "5551234#4826#")

	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("after logout, 1001 does not ring Ada's own phone again")
	}
	if _, user, _ := rings(t, desk, "1002", grace); user != "1003" {
		t.Fatalf("after logout, the seat calls out as %s, want 1003", user)
	}
}

func TestHotDeskAcrossTenants(t *testing.T) {
	o, _ := hotdeskOffice(t)
	desk := o.phone("1003") // a phone of acme.example
	bob := newPhone(t, o.srv.SIPAddr(), "2002", "beta.example", "pw-2002-x")
	desk.register()
	bob.register()

	desk.keyIn(t, "*072", "7770001#3141#")

	if _, user, name := rings(t, desk, "2002", bob); user != "2001" || name != "Bea Beta" {
		t.Fatalf("beta's person at an acme phone dials 2002: shown as %q <%s>, want Bea Beta <2001>", name, user)
	}
	if p, _, _ := rings(t, bob, "2001", desk); p != desk {
		t.Fatal("a call to beta's 2001 does not ring the acme seat")
	}
}

func TestHotDeskWrongPINThreeTimesLogsNobodyIn(t *testing.T) {
	o, _ := hotdeskOffice(t)
	adaHome, grace, desk := o.phone("1001"), o.phone("1002"), o.phone("1003")
	for _, p := range []*phone{adaHome, grace, desk} {
		p.register()
	}
	desk.keyIn(t, "*072", "5551234#1111#5551234#2222#5551234#3333#")
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("three wrong PINs logged somebody in")
	}
	if sess, _ := o.db.HotdeskSessions(context.Background(), 0); len(sess) != 0 {
		t.Fatalf("%d sessions after failed logins", len(sess))
	}
}
