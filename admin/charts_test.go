package admin

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"deskpbx/store"
)

// chartDay seeds the last day of acme and beta: calls and hot-desk logins
// at known hours of the 24 the dashboard shows, and Ada seated at Grace's
// phone. Near the end of an hour the clock is moved on past the next
// one's start first, so the hours do not turn over while a test looks.
type chartDay struct {
	from time.Time // the start of the first hour shown
}

func seedChartDay(t *testing.T, o *office) chartDay {
	t.Helper()
	ctx := context.Background()
	now := o.now.Now()
	if left := now.Truncate(time.Hour).Add(time.Hour).Sub(now); left < 5*time.Minute {
		o.now.Advance(left + 5*time.Minute)
	}
	now = o.now.Now().Local()
	hour := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, now.Location())
	d := chartDay{from: hour.Add(-23 * time.Hour)}
	calls := func(tenant *store.Tenant, h, answered, missed int) {
		t.Helper()
		for i := range answered + missed {
			start := d.from.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute)
			c := store.CallRecord{TenantID: tenant.ID, CallID: fmt.Sprint(h, i), Caller: "1001@" + tenant.Domain,
				Callee: "1002@" + tenant.Domain, Started: start, Ended: start.Add(time.Minute), Outcome: "no_answer"}
			if i < answered {
				c.Outcome, c.Answered = "answered", start.Add(5*time.Second)
			}
			if err := o.db.RecordCall(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	calls(o.acme, 10, 5, 2)
	calls(o.acme, 20, 1, 0)
	calls(o.acme, 23, 3, 1)
	calls(o.beta, 5, 4, 0)
	logins := func(tenant *store.Tenant, h, n int) {
		t.Helper()
		for i := range n {
			if err := o.db.RecordAudit(ctx, store.AuditEntry{At: d.from.Add(time.Duration(h)*time.Hour + time.Duration(i)*time.Minute),
				TenantID: tenant.ID, Actor: "seed", Action: "login", Outcome: "ok"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	logins(o.acme, 12, 4)
	logins(o.acme, 23, 1)
	// A real login: the seventh of acme's day, in this hour.
	if _, err := o.db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "50018", PIN: "4826"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1002", HotdeskID: "50022", PIN: "7391"}, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := o.hotdesk.Login(ctx, "50018", "4826", o.grace, "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	return d
}

// Each admin's dashboard counts its own tenant's calls and logins; the
// system admin's counts every tenant's.
func TestDashboardChartsCountOnlyTheAdminsTenant(t *testing.T) {
	o := newOffice(t)
	seedChartDay(t, o)
	for _, tc := range []struct {
		admin string
		want  []string
	}{
		{"acme-boss", []string{"12 calls in the last 24 hours: 9 answered, 3 missed.", "6 hot-desk logins in the last 24 hours.",
			"<strong>1</strong> of 2 hot-desk people are seated."}},
		{"beta-boss", []string{"4 calls in the last 24 hours: 4 answered, 0 missed.", "0 hot-desk logins in the last 24 hours.",
			"<strong>0</strong> of 0 hot-desk people are seated."}},
		{"root", []string{"16 calls in the last 24 hours: 13 answered, 3 missed.", "6 hot-desk logins in the last 24 hours.",
			"<strong>1</strong> of 2 hot-desk people are seated."}},
	} {
		res := o.login(tc.admin).get("/")
		for _, w := range tc.want {
			if !strings.Contains(res.body, w) {
				t.Errorf("%s's dashboard lacks %q", tc.admin, w)
			}
		}
		if strings.Count(res.body, `<g class="bar"`) != 48 {
			t.Errorf("%s's dashboard has %d bars, want 24 per chart", tc.admin, strings.Count(res.body, `<g class="bar"`))
		}
	}
}

func TestChartScaleIsRound(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 2, 2: 2, 3: 5, 5: 5, 6: 10, 11: 20, 21: 50, 99: 100, 101: 200} {
		if got := niceCeil(n); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", n, got, want)
		}
	}
}

// acme's admin opens the dashboard in Chromium at desktop and phone
// width: the bars stand in the order of the seeded hours, the text
// alternatives name the counts, and nothing scrolls sideways on a phone.
func TestBrowserDashboardChartsAtDesktopAndPhoneWidth(t *testing.T) {
	o := newOffice(t)
	d := seedChartDay(t, o)
	ctx := newChromium(t)
	step(t, ctx, "log in as acme's admin",
		chromedp.Navigate(o.http.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("f-username"), "acme-boss"),
		chromedp.SendKeys(chromedp.ID("f-password"), o.passwords["acme-boss"]),
		chromedp.Click(chromedp.CSS("button.primary")),
		chromedp.WaitVisible(chromedp.CSS(`#chart-calls svg`)),
	)
	// Phones up and a call on, so the screenshots show the whole page.
	ada, grace := o.phone(o.ada, "Ada-Secret-77"), o.phone(o.grace, "Grace-Secret-77")
	ada.Register()
	grace.Register()
	callCtx, callCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer callCancel()
	call, err := ada.Dial(callCtx, "1002")
	if err != nil {
		t.Fatalf("call for the screenshots: %v", err)
	}
	defer call.Bye(callCtx)
	dir := screenshotDir(t)
	for _, width := range []int64{1280, 390} {
		viewport, suffix := chromedp.EmulateViewport(width, 900), "desktop"
		if width == 390 {
			viewport, suffix = chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), "phone"
		}
		step(t, ctx, "open the dashboard at "+suffix+" width", viewport,
			chromedp.Navigate(o.http.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#chart-calls svg`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-live="calls"] table`)))

		// Drawn heights, as laid out: per bar, each series' rectangle.
		heights := func(chart string) [][]float64 {
			t.Helper()
			h, err := chromedp.Run(ctx, chromedp.Evaluate[[][]float64](fmt.Sprintf(`[...document.querySelectorAll("#%s g.bar")].map(g =>
				[...g.querySelectorAll("rect")].map(r => r.getBoundingClientRect().height))`, chart)))
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		calls := heights("chart-calls")
		if len(calls) != 24 {
			t.Fatalf("%s: %d call bars, want 24", suffix, len(calls))
		}
		// Series 0 is answered, 1 missed.
		at := func(h, series int) float64 { return calls[h][series] }
		for h := range calls {
			if h != 10 && h != 20 && h != 23 && (at(h, 0) != 0 || at(h, 1) != 0) {
				t.Errorf("%s: hour %d has a bar %v, want none", suffix, h, calls[h])
			}
		}
		if !(at(10, 0) > at(23, 0) && at(23, 0) > at(20, 0) && at(20, 0) > 0) {
			t.Errorf("%s: answered bars at 10, 23, 20 = %v, %v, %v; want falling (5, 3, 1)", suffix, at(10, 0), at(23, 0), at(20, 0))
		}
		if !(at(10, 1) > at(23, 1) && at(23, 1) > 0 && at(20, 1) == 0) {
			t.Errorf("%s: missed bars at 10, 23, 20 = %v, %v, %v; want 2, 1, 0", suffix, at(10, 1), at(23, 1), at(20, 1))
		}
		// 5 answered against 1: the heights keep the proportion, to the pixel.
		if r := at(10, 0) / at(20, 0); r < 4.5 || r > 5.5 {
			t.Errorf("%s: 5 answered is drawn %.1f times as tall as 1", suffix, r)
		}
		logins := heights("chart-logins")
		if len(logins) != 24 || !(logins[12][0] > logins[23][0] && logins[23][0] > 0) {
			t.Errorf("%s: login bars at 12 and 23 = %v; want 4 taller than 2", suffix, logins)
		}

		// The text alternatives: what a screen reader announces for each
		// chart, and the table beneath it.
		alt, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`["chart-calls", "chart-logins", "chart-seats"].map(id => {
			const svg = document.querySelector("#" + id + " svg");
			return svg.getAttribute("role") + ": " + svg.getAttribute("aria-labelledby").split(" ").map(x => document.getElementById(x).textContent).join(" ");
		})`))
		if err != nil {
			t.Fatal(err)
		}
		busy := d.from.Add(10 * time.Hour).Format("15:04")
		for i, want := range []string{
			"img: Calls per hour, last 24 hours 12 calls in the last 24 hours: 9 answered, 3 missed. Busiest hour: " + busy,
			"img: Hot-desk logins per hour, last 24 hours 6 hot-desk logins in the last 24 hours.",
			"img: Hot-desk seats in use now 1 of 2 hot-desk people are seated.",
		} {
			if i >= len(alt) || !strings.HasPrefix(alt[i], want) {
				t.Errorf("%s: text alternative %d = %q, want it to start %q", suffix, i, alt, want)
			}
		}
		row, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelectorAll("#chart-calls details tbody tr")[10].textContent`))
		if err != nil || !strings.Contains(row, busy) || !strings.Contains(row, "52") {
			t.Errorf("%s: the table's row of hour 10 = %q, want %s with 5 and 2", suffix, row, busy)
		}

		// Fits: the charts take the card's width and never push the page wider.
		sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.documentElement.scrollWidth,
			document.querySelector("#chart-calls svg").getBoundingClientRect().width]`))
		if err != nil {
			t.Fatal(err)
		}
		if sizes[0] > float64(width) || sizes[1] > float64(width) || sizes[1] < float64(width)/3 {
			t.Errorf("%s: page %v px wide, calls chart %v px", suffix, sizes[0], sizes[1])
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dashboard-charts-"+suffix+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
