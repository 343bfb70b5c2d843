package pbx

import (
	"context"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/internal/testclock"
	"deskpbx/internal/testphone"
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
	o.hotdesk = hd
	o.stop()
	o.start()
	return o, hd
}

// rings places a call from caller to number and says which of phones
// answered it and what caller ID it was shown; then hangs up.
func rings(t *testing.T, caller *testphone.Phone, number string, phones ...*testphone.Phone) (rang *testphone.Phone, fromUser, fromName string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.Dial(ctx, number)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.User, number, err)
	}
	// The answering phone queued the INVITE before it sent 200.
	for _, p := range phones {
		select {
		case in := <-p.Incoming:
			rang, fromUser, fromName = p, in.Req.From().Address.User, in.Req.From().DisplayName
		default:
		}
	}
	if rang == nil {
		t.Fatalf("call from %s to %s was answered by none of the phones watched", caller.User, number)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("hang up: %v", err)
	}
	waitFor(t, rang.Byes, "BYE at the phone that rang")
	return rang, fromUser, fromName
}

func TestHotDeskLoginMovesCallsAndCallerIDAtOnce(t *testing.T) {
	o, hd := hotdeskOffice(t)
	adaHome, grace, desk := o.phone("1001"), o.phone("1002"), o.phone("1003")
	for _, p := range []*testphone.Phone{adaHome, grace, desk} {
		p.Register()
	}
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("before login, 1001 did not ring Ada's own phone")
	}

	desk.KeyIn(t, "*072", "5551234#4826#")

	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != desk {
		t.Fatalf("after login, a call to 1001 rang %s, want the seat 1003", p.User)
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

	desk.KeyIn(t, "*073", "5551234#4826#")

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
	bob := testphone.New(t, o.srv.SIPAddr(), "2002", "beta.example", "pw-2002-x")
	desk.Register()
	bob.Register()

	desk.KeyIn(t, "*072", "7770001#3141#")

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
	for _, p := range []*testphone.Phone{adaHome, grace, desk} {
		p.Register()
	}
	desk.KeyIn(t, "*072", "5551234#1111#5551234#2222#5551234#3333#")
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("three wrong PINs logged somebody in")
	}
	if sess, _ := o.db.HotdeskSessions(context.Background(), 0); len(sess) != 0 {
		t.Fatalf("%d sessions after failed logins", len(sess))
	}
}

func seated(t *testing.T, o *office) int {
	t.Helper()
	sess, err := o.db.HotdeskSessions(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(sess)
}

func TestHotDeskMoveAndReplace(t *testing.T) {
	o, _ := hotdeskOffice(t)
	if _, err := o.db.CreateHotdeskEntry(context.Background(), store.NewHotdeskEntry{Domain: "acme.example", Number: "1002", HotdeskID: "5552222", PIN: "2718"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateExtension(context.Background(), store.NewExtension{Domain: "acme.example", Number: "1004", Password: "pw-1004-x"}); err != nil {
		t.Fatal(err)
	}
	adaHome, grace, desk, caller := o.phone("1001"), o.phone("1002"), o.phone("1003"), o.phone("1004")
	for _, p := range []*testphone.Phone{adaHome, grace, desk, caller} {
		p.Register()
	}

	desk.KeyIn(t, "*072", "5551234#4826#")
	// Ada moves to Grace's phone: the first seat is freed.
	grace.KeyIn(t, "*072", "5551234#4826#")
	if p, _, _ := rings(t, caller, "1001", adaHome, desk, grace); p != grace {
		t.Fatalf("after moving, 1001 rang %s, want the new seat (1002's phone)", p.User)
	}
	if _, user, _ := rings(t, desk, "1001", grace); user != "1003" {
		t.Fatalf("the old seat still calls out as %s, want its own 1003", user)
	}
	if n := seated(t, o); n != 1 {
		t.Fatalf("%d sessions after a move, want 1", n)
	}
	// Grace logs in at her own phone: she replaces Ada there.
	grace.KeyIn(t, "*072", "5552222#2718#")
	if p, _, _ := rings(t, caller, "1001", adaHome, desk, grace); p != adaHome {
		t.Fatalf("after being replaced, 1001 rang %s, want Ada's own phone", p.User)
	}
	if n := seated(t, o); n != 1 {
		t.Fatalf("%d sessions after a replace, want 1", n)
	}
}

func TestHotDeskLockoutsAndTheirExpiry(t *testing.T) {
	o, hd := hotdeskOffice(t)
	clock := testclock.At(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC))
	hd.Now = clock.Now
	ctx := context.Background()
	desk, other := o.phone("1003"), o.phone("1002")
	desk.Register()
	other.Register()
	seatOther, _ := o.db.LookupExtension(ctx, "acme.example", "1002")
	// Four wrong PINs for Ada's ID from another phone...
	for i := 0; i < 4; i++ {
		hd.Login(ctx, "5551234", "9999", seatOther, "127.0.0.1:1")
	}
	// ...and a fifth at the desk locks the ID: the right PIN then fails
	// exactly like a wrong one.
	desk.KeyIn(t, "*072", "5551234#9999#5551234#4826#5551234#4826#")
	if n := seated(t, o); n != 0 {
		t.Fatal("a locked ID logged in with the right PIN")
	}
	clock.Advance(16 * time.Minute)
	desk.KeyIn(t, "*072", "5551234#4826#")
	if n := seated(t, o); n != 1 {
		t.Fatal("the ID is still locked after 15 minutes")
	}
	desk.KeyIn(t, "*073", "5551234#4826#")

	// Ten failures from one seat lock that seat, whatever the ID.
	seatDesk, _ := o.db.LookupExtension(ctx, "acme.example", "1003")
	for i := 0; i < 9; i++ {
		hd.Login(ctx, "4440000", "1357", seatDesk, "127.0.0.1:2")
	}
	desk.KeyIn(t, "*072", "4440001#1357#5551234#4826#5551234#4826#")
	if n := seated(t, o); n != 0 {
		t.Fatal("a locked seat logged somebody in")
	}
	other.KeyIn(t, "*072", "5551234#4826#")
	if n := seated(t, o); n != 1 {
		t.Fatal("the seat lock also locked another phone")
	}
}

func TestHotDeskSwitchedOffAndCompanyPIN(t *testing.T) {
	o, _ := hotdeskOffice(t)
	ctx := context.Background()
	desk, grace, adaHome := o.phone("1003"), o.phone("1002"), o.phone("1001")
	for _, p := range []*testphone.Phone{desk, grace, adaHome} {
		p.Register()
	}
	off, pin := false, "917346"
	if _, err := o.db.SetTenantHotdesk(ctx, "acme.example", store.HotdeskSettings{Login: &off}, "test"); err != nil {
		t.Fatal(err)
	}
	desk.KeyIn(t, "*072", "5551234#4826#")
	if n := seated(t, o); n != 0 {
		t.Fatal("*072 logged in with the feature switched off")
	}
	on := true
	if _, err := o.db.SetTenantHotdesk(ctx, "acme.example", store.HotdeskSettings{Login: &on, CompanyPIN: &pin}, "test"); err != nil {
		t.Fatal(err)
	}
	// The company PIN replaces the person's own password.
	desk.KeyIn(t, "*072", "5551234#4826#5551234#917346#")
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != desk {
		t.Fatal("login with the company PIN did not seat Ada")
	}
	if n := seated(t, o); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
}

func TestHotDeskAutoLogoutAndRestart(t *testing.T) {
	o, hd := hotdeskOffice(t)
	clock := testclock.At(time.Now())
	hd.Now = clock.Now
	ctx := context.Background()
	desk, grace, adaHome := o.phone("1003"), o.phone("1002"), o.phone("1001")
	for _, p := range []*testphone.Phone{desk, grace, adaHome} {
		p.Register()
	}
	after := 8 * time.Hour
	if _, err := o.db.SetTenantHotdesk(ctx, "acme.example", store.HotdeskSettings{AutologoutAfter: &after}, "test"); err != nil {
		t.Fatal(err)
	}
	desk.KeyIn(t, "*072", "5551234#4826#")

	// A restart keeps the session.
	addr := o.srv.SIPAddr()
	o.stop()
	o.start(func(c *Config) { c.SIPAddr = addr })
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != desk {
		t.Fatal("after a restart, 1001 no longer rings the seat")
	}
	if n, _ := hd.AutoLogoutOnce(ctx, clock.Now().Add(7*time.Hour)); n != 0 {
		t.Fatalf("auto-logout after 7 h logged out %d, want 0", n)
	}
	if n, _ := hd.AutoLogoutOnce(ctx, clock.Now().Add(8*time.Hour+time.Minute)); n != 1 {
		t.Fatalf("auto-logout after 8 h logged out %d, want 1", n)
	}
	if p, _, _ := rings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatal("after auto-logout, 1001 does not ring Ada's own phone")
	}
}
