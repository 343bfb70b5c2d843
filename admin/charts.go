package admin

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// The dashboard's charts are inline SVG drawn by the templates from
// geometry worked out here: no script, nothing fetched, and a text
// alternative beside each. The SVG's viewBox is fixed and its width is
// the page's, so one drawing fits a desktop and a 390 px phone alike.
const (
	chartW, chartH = 480, 200
	plotL, plotR   = 34, 460 // the plot area, inside the axis labels
	plotT, plotB   = 28, 176
	chartHours     = 24
)

// dashboard is the dashboard page: the live tables and the charts.
type dashboard struct {
	*liveView
	Charts *dashCharts
}

type dashCharts struct {
	Calls, Logins *barChart
	Seats         *gauge // nil without hot desking
}

// barChart is a chart of hourly bars, each stacked from up to two series.
type barChart struct {
	ID, Title, Summary string
	Series             []legend // bottom of the stack first
	Bars               []bar
	Grid               []gridLine
	Ticks              []tick
	W, H, PlotL, PlotR int
	PlotB              int
}

type bar struct {
	Label  string // "14:00–15:00"
	Text   string // "14:00–15:00: 3 answered, 1 missed"
	Counts []int  // per series
	Rects  []rect // per series, bottom first
	X, W   int
}

type rect struct {
	Series, Fill string
	Y, H         int
}

// seriesFill colours the series in order; each has a contrast of at
// least 3:1 against the white card.
var seriesFill = []string{"#1f5fbf", "#c2571a"}

type legend struct {
	Name, Fill string
	X          int
}

type gridLine struct {
	Y     int
	Label int
}

type tick struct {
	X     int
	Label string
}

// gauge is a single horizontal bar: so many of so many.
type gauge struct {
	Used, Of int
	W        int // of the drawing's chartW
}

// dashboardPage is the dashboard: the live tables with, below the counts,
// the last day's calls and hot-desk logins and the seats in use.
func (s *Server) dashboardPage(c *call) error {
	live, err := s.liveData(c.ctx, c.me, -1)
	if err != nil {
		return err
	}
	charts, err := s.charts(c.ctx, live)
	if err != nil {
		return err
	}
	s.render(c.w, c.r, http.StatusOK, "dashboard", &page{Title: "Dashboard", Nav: "dashboard", D: dashboard{live, charts}})
	return nil
}

// charts draws the last 24 hours, this hour included, for the tenant the
// admin sees (every tenant for a system admin).
func (s *Server) charts(ctx context.Context, v *liveView) (*dashCharts, error) {
	tenant := v.Admin.TenantID
	now := s.db.Now().Local()
	// Truncate works in UTC; rounding the local clock keeps hours whole
	// where the zone is a half hour off.
	hour := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, now.Location())
	from := hour.Add(-(chartHours - 1) * time.Hour)
	calls, err := s.db.CallsPerHour(ctx, tenant, from, chartHours)
	if err != nil {
		return nil, err
	}
	out := &dashCharts{}
	counts := make([][]int, len(calls))
	var answered, missed int
	for i, h := range calls {
		counts[i] = []int{h.Answered, h.Missed}
		answered, missed = answered+h.Answered, missed+h.Missed
	}
	out.Calls = drawBars("chart-calls", "Calls per hour, last 24 hours", from, counts, "Answered", "Missed")
	out.Calls.Summary = fmt.Sprintf("%d calls in the last 24 hours: %d answered, %d missed.%s",
		answered+missed, answered, missed, busiest(out.Calls, "calls"))
	if !v.HotDesk {
		return out, nil
	}
	logins, err := s.db.LoginsPerHour(ctx, tenant, from, chartHours)
	if err != nil {
		return nil, err
	}
	counts = make([][]int, len(logins))
	total := 0
	for i, h := range logins {
		counts[i] = []int{h.Logins}
		total += h.Logins
	}
	out.Logins = drawBars("chart-logins", "Hot-desk logins per hour, last 24 hours", from, counts, "Logins")
	out.Logins.Summary = fmt.Sprintf("%d hot-desk logins in the last 24 hours.%s", total, busiest(out.Logins, "logins"))
	people, err := s.db.HotdeskEntries(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out.Seats = &gauge{Used: v.Counts.Seated, Of: max(len(people), v.Counts.Seated)}
	if out.Seats.Of > 0 {
		out.Seats.W = chartW * out.Seats.Used / out.Seats.Of
	}
	return out, nil
}

// drawBars lays out one bar per hour from from, each stacked from its
// counts, under a scale rounded up to a readable number.
func drawBars(id, title string, from time.Time, counts [][]int, series ...string) *barChart {
	top := 0
	for _, c := range counts {
		sum := 0
		for _, n := range c {
			sum += n
		}
		top = max(top, sum)
	}
	top = niceCeil(top)
	ch := &barChart{ID: id, Title: title, W: chartW, H: chartH, PlotL: plotL, PlotR: plotR, PlotB: plotB}
	for j, name := range series {
		ch.Series = append(ch.Series, legend{Name: name, Fill: seriesFill[j%len(seriesFill)], X: plotL + 120*j})
	}
	ch.Grid = []gridLine{{Y: plotB, Label: 0}}
	if top%2 == 0 && top > 0 {
		ch.Grid = append(ch.Grid, gridLine{Y: scaleY(top/2, top), Label: top / 2})
	}
	if top > 0 {
		ch.Grid = append(ch.Grid, gridLine{Y: plotT, Label: top})
	}
	slot := float64(plotR-plotL) / float64(len(counts))
	for i, c := range counts {
		start := from.Add(time.Duration(i) * time.Hour)
		b := bar{Label: start.Format("15:04") + "–" + start.Add(time.Hour).Format("15:04"), Counts: c,
			X: plotL + int(float64(i)*slot+slot*0.15), W: max(int(slot*0.7), 2)}
		base := 0
		var parts []string
		for j, n := range c {
			y0, y1 := scaleY(base, top), scaleY(base+n, top)
			b.Rects = append(b.Rects, rect{Series: series[j], Fill: seriesFill[j%len(seriesFill)], Y: y1, H: y0 - y1})
			base += n
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(series[j])))
		}
		b.Text = b.Label + ": " + strings.Join(parts, ", ")
		ch.Bars = append(ch.Bars, b)
		// An hour label every six hours is as many as fit on a phone.
		if (len(counts)-1-i)%6 == 0 {
			ch.Ticks = append(ch.Ticks, tick{X: plotL + int(float64(i)*slot+slot/2), Label: start.Format("15:04")})
		}
	}
	return ch
}

// scaleY is the height in the drawing of n on a scale that ends at top.
func scaleY(n, top int) int {
	if top == 0 {
		return plotB
	}
	return plotB - n*(plotB-plotT)/top
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so the scale's
// labels are round; at least 2, so its middle line is a whole number.
func niceCeil(n int) int {
	if n <= 0 {
		return 0
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*p >= n && m*p >= 2 {
				return m * p
			}
		}
	}
}

// busiest names the hour with the most, for the text alternative.
func busiest(ch *barChart, what string) string {
	best, most := -1, 0
	for i, b := range ch.Bars {
		sum := 0
		for _, n := range b.Counts {
			sum += n
		}
		if sum > most {
			best, most = i, sum
		}
	}
	if best < 0 {
		return ""
	}
	return fmt.Sprintf(" Busiest hour: %s, %d %s.", ch.Bars[best].Label, most, what)
}
