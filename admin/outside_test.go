package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"deskpbx/store"
)

// acme's admin watches the dashboard: no working trunk is a warning that
// emergency calls cannot go out; a registered trunk lifts it; an
// emergency call at acme shows as a banner at once, beta's never does.
func TestDashboardShowsTrunksAndEmergencyCallsLive(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	boss := o.login("acme-boss")
	events := boss.openEvents(ctx, "trunks,emergency")
	waitEvent(t, events, "trunks", "No working trunk for acme.example")

	k, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: "sip.provider.example",
		Username: "acme", Password: "Trunk-Secret-9", Register: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.db.SetTrunkState(ctx, k.ID, store.TrunkRegistered, ""); err != nil {
		t.Fatal(err)
	}
	ev := waitEvent(t, events, "trunks", "registered")
	if strings.Contains(ev.data, "No working trunk for acme.example") || strings.Contains(ev.data, "Trunk-Secret-9") || strings.Contains(ev.data, "beta.example") {
		t.Fatalf("trunks section: %s", ev.data)
	}
	for _, e := range []store.AuditEntry{
		{TenantID: o.beta.ID, Actor: "2001@beta.example", Action: "emergency_call", Seat: "2001@beta.example", Outcome: "placed", Detail: "dialled 112"},
		{TenantID: o.acme.ID, Actor: "1002@acme.example", Action: "emergency_call", Seat: "1002@acme.example", Person: "1001@acme.example", Outcome: "placed", Detail: "dialled 911, caller ID +15550150, trunk main"},
	} {
		if err := o.db.RecordAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	ev = waitEvent(t, events, "emergency", "1002@acme.example")
	if strings.Contains(ev.data, "beta.example") {
		t.Fatalf("acme's admin was shown beta's emergency call: %s", ev.data)
	}
}

// The banner appears in a real browser without a reload.
func TestBrowserEmergencyBannerAppears(t *testing.T) {
	o := newOffice(t)
	ctx := newChromium(t)
	step(t, ctx, "log in",
		chromedp.Navigate(o.http.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "root"),
		chromedp.SendKeys(chromedp.ID("f-password"), o.passwords["root"]),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="trunks"]`)),
	)
	waitFor(t, ctx, "the no-trunk warning", textOf(`[data-live="trunks"]`)+`.includes("emergency calls from its phones cannot be placed")`)
	if err := o.db.RecordAudit(context.Background(), store.AuditEntry{TenantID: o.acme.ID, Actor: "1002@acme.example",
		Action: "emergency_call", Seat: "1002@acme.example", Outcome: "placed", Detail: "dialled 911"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the emergency banner", textOf(`.emergency`)+`.includes("Emergency call from the phone 1002@acme.example")`)
}
