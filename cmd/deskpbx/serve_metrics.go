package main

import (
	"context"
	"flag"
	"log/slog"
	"net/http"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/metrics"
	"deskpbx/pbx"
	"deskpbx/store"
)

// metricsFlags are serve's settings for /metrics on the admin listener.
type metricsFlags struct {
	token string
	allow string
}

func (m *metricsFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&m.token, "metrics-token", envOr("DESKPBX_METRICS_TOKEN", ""), "bearer token that opens /metrics to any address; loopback needs none (DESKPBX_METRICS_TOKEN)")
	fs.StringVar(&m.allow, "metrics-allow", envOr("DESKPBX_METRICS_ALLOW", ""), "addresses and CIDR prefixes, comma-separated, that may read /metrics without a token (DESKPBX_METRICS_ALLOW)")
}

// newMetrics builds the registry over the live state and has the PBX and
// hot desking count into it; call it before srv.Start.
func newMetrics(db *store.DB, srv *pbx.Server, hd *hotdesk.Service) *metrics.Metrics {
	m := metrics.New(metricsSources(db, srv, hd))
	srv.SetMetrics(m)
	hd.SetMetrics(m)
	return m
}

// withMetrics serves m on /metrics in front of the admin page, which gets
// every other path. A malformed allow-list is logged and ignored (loopback
// and the token still work): a metrics typo must not keep phones down.
func withMetrics(mf metricsFlags, admin http.Handler, m *metrics.Metrics, log *slog.Logger) http.Handler {
	access := metrics.Access{Token: mf.token}
	allow, err := metrics.ParseAllow(mf.allow)
	if err != nil {
		log.Error("metrics-allow ignored: /metrics is open to loopback and the token only", "err", err)
	} else {
		access.Allow = allow
	}
	scrape := access.Wrap(m.Handler())
	// Not an http.ServeMux: it would clean and redirect paths the admin
	// router has always seen as sent.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			scrape.ServeHTTP(w, r)
			return
		}
		admin.ServeHTTP(w, r)
	})
}

// metricsSources reads the live state the admin dashboard shows.
func metricsSources(db *store.DB, srv *pbx.Server, hd *hotdesk.Service) metrics.Sources {
	return metrics.Sources{
		Registrations: srv.Location().Count,
		Calls: func() (ringing, answered int) {
			for _, c := range srv.ActiveCalls() {
				if c.Answered.IsZero() {
					ringing++
				} else {
					answered++
				}
			}
			return ringing, answered
		},
		SeatsInUse: func(ctx context.Context) (int, error) {
			sessions, err := db.HotdeskSessions(ctx, 0)
			return len(sessions), err
		},
		HotdeskLogins: func() (int, time.Duration, time.Duration) {
			st := hd.Stats()
			return st.Count, st.P50, st.P99
		},
	}
}
