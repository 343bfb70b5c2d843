package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"deskpbx/store"
)

const chromiumPath = "/usr/bin/chromium"

// newChromium starts headless Chromium with the flags that keep it quiet
// and self-contained (see peers-notes), or skips the test without it.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("DESKPBX_REQUIRE_PEERS") == "1" {
			t.Fatalf("Chromium is required (DESKPBX_REQUIRE_PEERS=1) but %s is missing: apt-get install chromium", chromiumPath)
		}
		t.Skipf("browser test skipped: no Chromium at %s (apt-get install chromium; DESKPBX_REQUIRE_PEERS=1 makes this a failure)", chromiumPath)
	}
	// A short directory: Chromium's singleton socket path under TMPDIR
	// must fit a Unix socket name, which t.TempDir's long names overflow.
	dir, err := os.MkdirTemp("", "dpx-chr-")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"home", "tmp", "config", "cache", "profile"} {
		os.MkdirAll(filepath.Join(dir, d), 0o700)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox, // required as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Without this Chromium still looks up Google hosts over DNS.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Env("HOME="+filepath.Join(dir, "home"), "TMPDIR="+filepath.Join(dir, "tmp"),
			"XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache")),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// Registered after the office's cleanup, so it runs first: the browser
	// must let go of its event stream before the test server closes.
	t.Cleanup(func() {
		cancel()
		acancel()
		os.RemoveAll(dir)
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a deadline, failing the test with what
// was being done.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls a JavaScript condition in the page.
func waitFor(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(12*time.Second), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("waiting for %s: %v\npage:\n%s", what, err, body)
	}
}

func textOf(selector string) string {
	return fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, selector)
}

// logIn signs user in from the page at path, and waits for landmark on
// the page behind the login.
func logIn(t *testing.T, ctx context.Context, o *office, path, user, landmark string) {
	t.Helper()
	step(t, ctx, "log in as "+user,
		chromedp.Navigate(o.http.URL+path),
		chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), user),
		chromedp.SendKeys(chromedp.ID("f-password"), o.passwords[user]),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(landmark)),
	)
}

// save fills the page's form with fill, sends it, and waits for the
// flash message to say flash.
func save(t *testing.T, ctx context.Context, what, flash string, fill ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step(t, ctx, what, append(fill, chromedp.Click(chromedp.CSS("form.card button.primary")), chromedp.WaitVisible(chromedp.CSS(".flash")))...)
	waitFor(t, ctx, what+" to be confirmed", textOf(".flash")+`.includes(`+strconv.Quote(flash)+`)`)
}

// refuse fills the page's form with fill, sends it, and waits for the
// message beside field.
func refuse(t *testing.T, ctx context.Context, what, field string, fill ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step(t, ctx, what, append(fill, chromedp.Click(chromedp.CSS("form.card button.primary")), chromedp.WaitVisible(chromedp.ID("e-"+field)))...)
}

// screenshotDir is the test artifact directory, at the repository root
// and ignored by git.
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("..", "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBrowserAdminSetsUpAnOfficeAndWatchesItLive(t *testing.T) {
	o := newOffice(t)
	ctx := newChromium(t)
	base := o.http.URL

	// Log in.
	logIn(t, ctx, o, "/", "root", `[data-live="registrations"]`)

	// Add a tenant; a bad domain first, answered beside the field.
	refuse(t, ctx, "add a tenant with a bad domain", "domain",
		chromedp.Navigate(base+"/tenants"), chromedp.SendKeys(chromedp.ID("f-domain"), "not a domain"))
	save(t, ctx, "add a tenant", "Tenant gamma.example added", chromedp.SetValue(chromedp.ID("f-domain"), "gamma.example"))
	gamma, err := o.db.TenantByDomain(context.Background(), "gamma.example")
	if err != nil {
		t.Fatal(err)
	}

	// Add an extension to it.
	save(t, ctx, "add an extension", "3001@gamma.example added",
		chromedp.Navigate(base+"/extensions/new"),
		chromedp.SetValue(chromedp.ID("f-tenant"), id(gamma.ID)),
		chromedp.SendKeys(chromedp.ID("f-number"), "3001"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Hedy Lamarr"),
		chromedp.SendKeys(chromedp.ID("f-password"), "Frequency-Hop-42"),
	)
	hedy, err := o.db.ExtensionByNumber(context.Background(), gamma.ID, "3001")
	if err != nil {
		t.Fatal(err)
	}

	// Give it a hot-desk entry.
	step(t, ctx, "add a hot-desk entry",
		chromedp.Navigate(base+"/hotdesk/new"),
		chromedp.SetValue(chromedp.ID("f-extension"), id(hedy.ID)),
		chromedp.SendKeys(chromedp.ID("f-hotdesk_id"), "730001"),
		chromedp.SendKeys(chromedp.ID("f-pin"), "4826"),
		chromedp.SendKeys(chromedp.ID("f-description"), "Hedy, any desk"),
		chromedp.Click(chromedp.CSS("form.card button.primary")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	waitFor(t, ctx, "the hot-desk entry to be listed", textOf(`[data-live="hotdesk"]`)+`.includes("730001")`)

	// The dashboard changes without a reload when a phone registers: a
	// marker set on the page survives only if the page was not reloaded.
	step(t, ctx, "open the dashboard",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-live="registrations"]`)),
	)
	waitFor(t, ctx, "the live stream to start", `document.body.hasAttribute("data-live-updated")`)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	o.phone(hedy, "Frequency-Hop-42").Register()
	waitFor(t, ctx, "the registration to appear", textOf(`[data-live="registrations"]`)+`.includes("3001@gamma.example")`)
	waitFor(t, ctx, "the count to change", textOf(`[data-live="counts"]`)+`.includes("1 registrations")`)
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`)); err != nil || !ok {
		t.Fatal("the dashboard reloaded instead of updating in place")
	}

	// Seat someone and keep a call up, so the pages show what they are for.
	ada := o.phone(o.ada, "Ada-Secret-77")
	grace := o.phone(o.grace, "Grace-Secret-77")
	ada.Register()
	grace.Register()
	if _, err := o.hotdesk.Login(context.Background(), "730001", "4826", o.grace, "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the seat to appear", textOf(`[data-live="seats"]`)+`.includes("3001@gamma.example")`)
	callCtx, callCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer callCancel()
	if _, err := ada.Dial(callCtx, "1002"); err != nil {
		t.Fatalf("call for the screenshots: %v", err)
	}
	waitFor(t, ctx, "the call to appear", textOf(`[data-live="calls"]`)+`.includes("1002@acme.example")`)

	screenshots(t, ctx, base, o)
}

// screenshots saves each main page at desktop and phone width, and checks
// that at 390 px nothing needs sideways scrolling.
func screenshots(t *testing.T, ctx context.Context, base string, o *office) {
	t.Helper()
	dir := screenshotDir(t)
	pages := []struct{ name, path, ready string }{
		{"dashboard", "/", `[data-live="registrations"] table`},
		{"tenants", "/tenants", "table"},
		{"extensions", "/extensions", "table"},
		{"extension-form", "/extensions/new", "form.card"},
		{"hotdesk", "/hotdesk", `[data-live="hotdesk"] table`},
		{"registrations", "/registrations", `[data-live="registrations"] table`},
		{"calls", "/calls", `[data-live="calls"] table`},
		{"audit", "/audit", "table"},
		{"account", "/account", "form.card"},
	}
	for _, width := range []int64{1280, 390} {
		viewport := chromedp.EmulateViewport(width, 900)
		if width == 390 {
			viewport = chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)
		}
		step(t, ctx, "set the viewport", viewport)
		for _, p := range pages {
			step(t, ctx, "open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
			if width == 390 {
				wide, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
				if err != nil || wide > 390 {
					t.Errorf("%s at 390 px is %d px wide: it needs sideways scrolling", p.path, wide)
				}
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatalf("screenshot of %s: %v", p.path, err)
			}
			suffix := "desktop"
			if width == 390 {
				suffix = "phone"
			}
			if err := os.WriteFile(filepath.Join(dir, p.name+"-"+suffix+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestBrowserTenantAdminSeesOnlyItsTenantAndBadInputIsKept(t *testing.T) {
	o := newOffice(t)
	ctx := newChromium(t)
	base := o.http.URL
	logIn(t, ctx, o, "/login", "acme-boss", `[data-live="counts"]`)
	refuse(t, ctx, "add an extension with bad input", "number",
		chromedp.Navigate(base+"/extensions/new"),
		chromedp.SendKeys(chromedp.ID("f-number"), "10x1"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Alan Turing"),
		chromedp.SendKeys(chromedp.ID("f-password"), "turing"),
	)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("f-number").value, document.getElementById("f-name").value,
		document.getElementById("e-number").textContent, document.getElementById("e-password").textContent]`))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != "10x1" || got[1] != "Alan Turing" || !strings.Contains(got[2], "digits only") || !strings.Contains(got[3], "shorter than") {
		t.Errorf("form after bad input: %q", got)
	}
	step(t, ctx, "open another tenant's extension", chromedp.Navigate(base+"/extensions/"+id(o.bob.ID)))
	if title, _ := chromedp.Run(ctx, chromedp.Title()); !strings.HasPrefix(title, "Not found") {
		t.Errorf("another tenant's extension page: title %q", title)
	}
	if _, err := o.db.ExtensionByNumber(context.Background(), o.acme.ID, "10x1"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Error("bad extension was stored")
	}
}
