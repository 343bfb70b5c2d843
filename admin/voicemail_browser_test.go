package admin

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// acme's admin opens Ada's mailbox from her extension page in Chromium:
// the message's audio element, fed by an authenticated GET of the WAV
// under the page's own Content-Security-Policy, loads and knows its
// duration.
func TestBrowserAdminPlaysAVoicemailMessage(t *testing.T) {
	v := newVoicemailOffice(t)
	m := v.leave(v.ada, "5551", 2)
	ctx := newChromium(t)
	base := v.http.URL
	step(t, ctx, "log in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "acme-boss"),
		chromedp.SendKeys(chromedp.ID("f-password"), v.passwords["acme-boss"]),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="registrations"]`)),
	)
	step(t, ctx, "open Ada's voicemail from her extension",
		chromedp.Navigate(base+"/extensions/"+id(v.ada.ID)),
		chromedp.Click(chromedp.CSS(`a[href="/extensions/`+id(v.ada.ID)+`/voicemail"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-message="`+id(m.ID)+`"] audio`)),
	)
	audio := `document.querySelector('tr[data-message="` + id(m.ID) + `"] audio')`
	waitFor(t, ctx, "the message's audio to load", `(function () { var a = `+audio+`; return a.readyState >= 1 && isFinite(a.duration) && a.duration > 0; })()`)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := chromedp.Run(sctx, chromedp.Evaluate[float64](audio+`.duration`))
	if err != nil {
		t.Fatal(err)
	}
	if d < 1.9 || d > 2.1 {
		t.Errorf("the audio element reports %.3f s, want the message's 2 s", d)
	}
	shoot(t, ctx, "voicemail-mailbox")
}

// acme's admin, whose phones show unsolicited message-waiting NOTIFYs
// wrongly, turns them off on the tenant page in Chromium; the page shows
// the choice kept, and a form whose value was tampered with is answered
// beside the field and changes nothing.
func TestBrowserAdminTurnsUnsolicitedMessageLightsOff(t *testing.T) {
	v := newVoicemailOffice(t)
	ctx := newChromium(t)
	logIn(t, ctx, v.office, "/", "acme-boss", `[data-live="registrations"]`)
	tenantPage := v.http.URL + "/tenants/" + id(v.acme.ID)
	selected := `document.getElementById("f-mwi_unsolicited").value`
	step(t, ctx, "open acme's tenant page", chromedp.Navigate(tenantPage), chromedp.WaitVisible(chromedp.ID("f-mwi_unsolicited")))
	waitFor(t, ctx, "the setting to show on", selected+` === "on"`)
	save(t, ctx, "turn unsolicited NOTIFYs off", "saved", chromedp.SetValue(chromedp.ID("f-mwi_unsolicited"), "off"))
	if tn, _ := v.db.TenantByID(context.Background(), v.acme.ID); tn.MWIUnsolicited {
		t.Fatal("unsolicited NOTIFYs still on after saving off")
	}
	step(t, ctx, "reload acme's tenant page", chromedp.Navigate(tenantPage), chromedp.WaitVisible(chromedp.ID("f-mwi_unsolicited")))
	waitFor(t, ctx, "the setting to show off", selected+` === "off"`)
	refuse(t, ctx, "send a tampered value", "mwi_unsolicited",
		chromedp.Evaluate[chromedp.Void](`(function () { var o = document.querySelector('#f-mwi_unsolicited option[value="on"]'); o.value = "maybe"; o.selected = true; })()`))
	waitFor(t, ctx, "the message beside the field", textOf("#e-mwi_unsolicited")+`.includes("Choose on or off")`)
	if tn, _ := v.db.TenantByID(context.Background(), v.acme.ID); tn.MWIUnsolicited {
		t.Fatal("a tampered value changed the setting")
	}
	shoot(t, ctx, "tenant-mwi-unsolicited")
}
