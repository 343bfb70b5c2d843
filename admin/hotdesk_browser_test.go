package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// newHotdeskOffice is newOffice with hot desking wired into call routing
// the way `deskpbx serve` wires it (internal/hotdeskcalls): the PBX
// asks the service who sits where, *072/*073 run its voice flows, both set
// before Start, and the admin page acts on the SAME service. acme.example
// also gets 1003, the shared desk phone.
func newHotdeskOffice(t *testing.T) *office {
	t.Helper()
	o := buildOffice(t, true)
	if _, err := o.db.CreateExtension(context.Background(), store.NewExtension{Domain: "acme.example", Number: "1003", Password: "Desk-Secret-77", Name: "Front desk"}); err != nil {
		t.Fatal(err)
	}
	return o
}

// seatOf is JavaScript for the "Seated at" cell of the Hot Desking row of
// hot-desk ID hid, as the page shows it now ("" without such a row).
func seatOf(hid string) string {
	return fmt.Sprintf(`(function () {
		var rows = document.querySelectorAll('[data-live="hotdesk"] tbody tr');
		for (var i = 0; i < rows.length; i++) {
			var id = rows[i].querySelector('td[data-label="Unique ID"]');
			if (id && id.textContent.trim().split(/\s/)[0] === %q) {
				var seat = rows[i].querySelector('td[data-label="Seated at"]');
				return seat ? seat.textContent.trim() : "";
			}
		}
		return "";
	})()`, hid)
}

func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The admin issue's story end to end: a person logs in at a desk phone by
// *072 with keys sent as RFC 4733 RTP events; the Hot Desking page, open
// in a real browser, shows them seated there without a reload; the admin
// forces them out with the page's own button; and their calls ring their
// own phone again.
func TestBrowserHotDeskLoginShowsLiveAndForceLogoutMovesCallsBack(t *testing.T) {
	o := newHotdeskOffice(t)
	bctx := context.Background()
	const hid, pin = "5551234", "4826"
	if _, err := o.db.CreateHotdeskEntry(bctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: hid, PIN: pin,
		Description: "Ada, any desk"}, "test"); err != nil {
		t.Fatal(err)
	}
	adaHome := o.phone(o.ada, "Ada-Secret-77")
	grace := o.phone(o.grace, "Grace-Secret-77")
	desk := testphone.New(t, o.pbx.SIPAddr(), "1003", "acme.example", "Desk-Secret-77")
	for _, p := range []*testphone.Phone{adaHome, grace, desk} {
		p.Register()
	}
	if p := whoRings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatalf("before any login, a call to 1001 rang %s, want Ada's own phone", p.User)
	}

	ctx := newChromium(t)
	base := o.http.URL
	logIn(t, ctx, o, "/login", "acme-boss", `[data-live="counts"]`)
	step(t, ctx, "open Hot Desking",
		chromedp.Navigate(base+"/hotdesk"),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="hotdesk"] table`)),
	)
	waitFor(t, ctx, "the live stream to start", `document.body.hasAttribute("data-live-updated")`)
	waitFor(t, ctx, "Ada's row to say not seated", seatOf(hid)+` === "not seated"`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	shoot(t, ctx, "hotdesk-login-before")

	// Ada sits down at the front desk: *072, her ID and PIN as RTP events.
	desk.KeyIn(t, "*072", hid+"#"+pin+"#")

	waitFor(t, ctx, "the page to show Ada seated at the desk", seatOf(hid)+` === "1003@acme.example"`)
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`)); err != nil || !ok {
		t.Fatalf("the Hot Desking page reloaded instead of updating in place (%v)", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/hotdesk" {
		t.Fatalf("the page went to %s", loc)
	}
	shoot(t, ctx, "hotdesk-login-seated")
	if p := whoRings(t, grace, "1001", adaHome, desk); p != desk {
		t.Fatalf("while seated, a call to 1001 rang %s, want the desk phone 1003", p.User)
	}

	// The admin forces her out with the row's button: a real click, the
	// page's confirm() accepted, the form posted with its CSRF token.
	forceLogout(t, ctx, hid, o.ada.ID)
	waitFor(t, ctx, "the flash after the forced logout", textOf(".flash")+`.includes("1001@acme.example logged out.")`)
	waitFor(t, ctx, "Ada's row to say not seated again", seatOf(hid)+` === "not seated"`)
	shoot(t, ctx, "hotdesk-login-after-logout")
	if sess, err := o.db.HotdeskSessions(bctx, 0); err != nil || len(sess) != 0 {
		t.Fatalf("sessions after the forced logout: %d (%v), want none", len(sess), err)
	}
	audit, _, err := o.db.AuditLog(bctx, store.AuditFilter{TenantID: o.acme.ID, Action: "force-logout"}, 10)
	if err != nil || len(audit) != 1 || audit[0].Actor != "admin:acme-boss" || audit[0].Seat != "1003@acme.example" {
		t.Fatalf("force-logout audit: %+v (%v), want one by admin:acme-boss of seat 1003", audit, err)
	}

	// Her next call rings her own phone, not the desk.
	if p := whoRings(t, grace, "1001", adaHome, desk); p != adaHome {
		t.Fatalf("after the forced logout, a call to 1001 rang %s, want Ada's own phone", p.User)
	}
}

// forceLogout clicks the "Log out" button of hot-desk ID hid's row and
// accepts the confirmation the page asks for, then waits for the page the
// form post leads to.
func forceLogout(t *testing.T, ctx context.Context, hid string, personID int64) {
	t.Helper()
	dctx, stop := context.WithCancel(ctx)
	dialogs := chromedp.Events(dctx, cdppage.JavascriptDialogOpening)
	asked := make(chan string, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			asked <- ev.Message
			// Closing the dialog frees the click that opened it.
			if _, err := chromedp.Call(dctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true}); err != nil && dctx.Err() == nil {
				t.Errorf("accepting the confirmation: %v", err)
			}
		}
	}()
	defer func() { stop(); <-done }()

	button := fmt.Sprintf(`[data-live="hotdesk"] form[action="/hotdesk/%d/logout"] button`, personID)
	var msg string
	// The live section is redrawn each second while someone is seated
	// (the "Since" column counts up); a click whose press and release land
	// on two different drawings of the button does nothing, so a click
	// that asked nothing is made again.
	for try := 1; msg == ""; try++ {
		if try > 3 {
			t.Fatal("three clicks on Log out never asked for confirmation")
		}
		step(t, ctx, "click Log out in Ada's row", chromedp.Click(chromedp.CSS(button)))
		select {
		case msg = <-asked:
		case <-time.After(5 * time.Second):
			t.Logf("click %d on Log out asked nothing; clicking again", try)
		}
	}
	if want := "Log 1001@acme.example out of 1003@acme.example?"; msg != want {
		t.Errorf("confirmation %q, want %q", msg, want)
	}
	step(t, ctx, "the page after the forced logout",
		chromedp.WaitVisible(chromedp.CSS(".flash")),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="hotdesk"] table`)),
	)
}

// whoRings places a call from caller to number, says which of phones
// answered it, and hangs up. Every test phone answers at once, so the
// phone that answered is the one the PBX rang.
func whoRings(t *testing.T, caller *testphone.Phone, number string, phones ...*testphone.Phone) *testphone.Phone {
	t.Helper()
	before := make([]int, len(phones))
	for i, p := range phones {
		before[i] = p.Calls()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.Dial(ctx, number)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.User, number, err)
	}
	var rang *testphone.Phone
	for i, p := range phones {
		if p.Calls() > before[i] {
			if rang != nil {
				t.Fatalf("a call to %s was answered by both %s and %s", number, rang.User, p.User)
			}
			rang = p
		}
	}
	if rang == nil {
		t.Fatalf("a call from %s to %s was answered by none of the phones watched", caller.User, number)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("hang up %s: %v", number, err)
	}
	select {
	case <-rang.Byes:
	case <-ctx.Done():
		t.Fatalf("no BYE at %s, the phone that rang for %s", rang.User, number)
	}
	return rang
}
