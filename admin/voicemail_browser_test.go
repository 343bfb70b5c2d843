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
