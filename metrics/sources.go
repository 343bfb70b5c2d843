package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sourceCollector reads Sources at scrape time: the numbers are the live
// ones, with nothing kept in step between scrapes.
type sourceCollector struct{ src Sources }

var (
	registrationsDesc = prometheus.NewDesc(namespace+"_registrations",
		"Registered contacts (bindings) live in the location table.", nil, nil)
	activeCallsDesc = prometheus.NewDesc(namespace+"_active_calls",
		"Calls in progress, by state.", []string{"state"}, nil)
	seatsDesc = prometheus.NewDesc(namespace+"_hotdesk_seats_in_use",
		"Phones with someone hot-desked at them.", nil, nil)
	loginsDesc = prometheus.NewDesc(namespace+"_hotdesk_logins_completed_total",
		"Hot-desk *072 logins completed since the server started.", nil, nil)
	// Two gauges rather than a summary: the hot-desk service keeps
	// percentiles of recent logins, not the running sum a summary needs.
	loginP50Desc = prometheus.NewDesc(namespace+"_hotdesk_login_latency_p50_seconds",
		"Median time from a caller's final key to the login's commit, over recent logins.", nil, nil)
	loginP99Desc = prometheus.NewDesc(namespace+"_hotdesk_login_latency_p99_seconds",
		"99th percentile time from a caller's final key to the login's commit, over recent logins.", nil, nil)
)

// scrapeTimeout bounds the database query of one scrape.
const scrapeTimeout = 2 * time.Second

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- registrationsDesc
	ch <- activeCallsDesc
	ch <- seatsDesc
	ch <- loginsDesc
	ch <- loginP50Desc
	ch <- loginP99Desc
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.src
	if s.Registrations != nil {
		ch <- prometheus.MustNewConstMetric(registrationsDesc, prometheus.GaugeValue, float64(s.Registrations()))
	}
	if s.Calls != nil {
		ringing, answered := s.Calls()
		ch <- prometheus.MustNewConstMetric(activeCallsDesc, prometheus.GaugeValue, float64(ringing), "ringing")
		ch <- prometheus.MustNewConstMetric(activeCallsDesc, prometheus.GaugeValue, float64(answered), "answered")
	}
	if s.SeatsInUse != nil {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		n, err := s.SeatsInUse(ctx)
		cancel()
		if err != nil {
			ch <- prometheus.NewInvalidMetric(seatsDesc, err)
		} else {
			ch <- prometheus.MustNewConstMetric(seatsDesc, prometheus.GaugeValue, float64(n))
		}
	}
	if s.HotdeskLogins != nil {
		n, p50, p99 := s.HotdeskLogins()
		ch <- prometheus.MustNewConstMetric(loginsDesc, prometheus.CounterValue, float64(n))
		ch <- prometheus.MustNewConstMetric(loginP50Desc, prometheus.GaugeValue, p50.Seconds())
		ch <- prometheus.MustNewConstMetric(loginP99Desc, prometheus.GaugeValue, p99.Seconds())
	}
}
