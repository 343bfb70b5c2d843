package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"deskpbx/hotdesk"
	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// A desk phone where somebody kept guessing is locked: even the right ID
// and password are refused there. The admin sees it on the Hot Desking
// page, unlocks it with its button, and the next *072 at that phone is
// heard through and seats the person; the API does the same.
func TestAdminUnlocksALockedSeatAndItsNextLoginWorks(t *testing.T) {
	o := newHotdeskOffice(t)
	ctx := context.Background()
	const hid, pin = "5551234", "4826"
	if _, err := o.hotdesk.CreateEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: hid, PIN: pin}, "test"); err != nil {
		t.Fatal(err)
	}
	desk := testphone.New(t, o.pbx.SIPAddr(), "1003", "acme.example", "Desk-Secret-77")
	desk.Register()
	seat, err := o.db.LookupExtension(ctx, "acme.example", "1003")
	if err != nil {
		t.Fatal(err)
	}
	lock := func() {
		t.Helper()
		for i := 0; i < hotdesk.SeatAttempts; i++ {
			o.hotdesk.Login(ctx, "4440000", "1357", seat, "127.0.0.1:2")
		}
	}
	seated := func() int {
		t.Helper()
		s, err := o.db.HotdeskSessions(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(s)
	}
	lock()
	desk.KeyIn(t, "*072", hid+"#"+pin+"#")
	if seated() != 0 {
		t.Fatal("a locked phone logged somebody in")
	}

	boss := o.login("acme-boss")
	page := boss.get("/hotdesk").body
	action := "/hotdesk/seats/" + idOf(seat) + "/unlock"
	if !strings.Contains(page, "Locked phones") || !strings.Contains(page, `action="`+action+`"`) {
		t.Fatalf("the Hot Desking page does not offer to unlock the desk phone:\n%s", page)
	}
	// Another tenant's admin cannot unlock it: not found, as for anything not theirs.
	if res := o.login("beta-boss").post(action, url.Values{}); res.status != http.StatusNotFound {
		t.Errorf("beta's admin unlocking acme's phone: %d, want 404", res.status)
	}
	res := boss.post(action, url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d\n%s", res.status, res.body)
	}
	if page := boss.get("/hotdesk").body; !strings.Contains(page, "1003@acme.example is unlocked") || strings.Contains(page, "Locked phones") {
		t.Errorf("after the unlock the page does not say so, or still lists the phone")
	}
	desk.KeyIn(t, "*072", hid+"#"+pin+"#")
	if seated() != 1 {
		t.Fatal("the unlocked phone's *072 did not seat Ada")
	}
	unlocks, _, err := o.db.AuditLog(ctx, store.AuditFilter{TenantID: o.acme.ID, Action: "unlock"}, 10)
	if err != nil || len(unlocks) != 1 || unlocks[0].Actor != "admin:acme-boss" || unlocks[0].Seat != "1003@acme.example" {
		t.Fatalf("unlock audit: %+v (%v)", unlocks, err)
	}

	// The same through the API.
	if _, err := o.hotdesk.ForceLogout(ctx, hid, "test"); err != nil {
		t.Fatal(err)
	}
	lock()
	token := boss.apiToken("unlock script")
	var out map[string]bool
	if code := o.api(token, "POST", "/hotdesk/seats/"+idOf(seat)+"/unlock", nil, &out); code != http.StatusOK || !out["was_locked"] {
		t.Fatalf("API unlock: %d %v", code, out)
	}
	if code := o.api(token, "POST", "/hotdesk/seats/"+idOf(seat)+"/unlock", nil, &out); code != http.StatusOK || out["was_locked"] {
		t.Fatalf("API unlock of an unlocked phone: %d %v", code, out)
	}
	desk.KeyIn(t, "*072", hid+"#"+pin+"#")
	if seated() != 1 {
		t.Fatal("after the API unlock, *072 did not seat Ada")
	}
}
