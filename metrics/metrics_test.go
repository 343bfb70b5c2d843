package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"deskpbx/metrics/metricstest"
)

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("scrape lacks %q", l)
		}
	}
}

// What the PBX's hooks record comes out of a scrape, with gauges read at
// that moment, in a format promtool accepts.
func TestScrapeShowsSourcesAndRecordedEvents(t *testing.T) {
	seats, seatsErr := 3, error(nil)
	m := New(Sources{
		Registrations: func() int { return 7 },
		Calls:         func() (int, int) { return 1, 2 },
		SeatsInUse:    func(context.Context) (int, error) { return seats, seatsErr },
		HotdeskLogins: func() (int, time.Duration, time.Duration) { return 5, 40 * time.Millisecond, 90 * time.Millisecond },
	})
	var rec Recorder = m
	rec.SIPRequest("INVITE")
	rec.SIPRequest("invite")
	rec.SIPRequest("X-SCANNER")
	rec.SIPResponse("INVITE", 180)
	rec.SIPResponse("REGISTER", 401)
	rec.SIPResponse("REGISTER", 9999)
	rec.RTP(500, 3, 2)
	rec.RTP(100, 0, 1)
	rec.CallEnded("answered")
	rec.HotdeskLogin("ok")
	rec.HotdeskLogin("wrong_pin")
	rec.HotdeskLockout()

	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	body := metricstest.Get(t, srv.URL)
	wantLines(t, body,
		`deskpbx_registrations 7`,
		`deskpbx_active_calls{state="ringing"} 1`,
		`deskpbx_active_calls{state="answered"} 2`,
		`deskpbx_hotdesk_seats_in_use 3`,
		`deskpbx_hotdesk_logins_completed_total 5`,
		`deskpbx_hotdesk_login_latency_p99_seconds 0.09`,
		`deskpbx_sip_requests_total{method="INVITE"} 2`,
		`deskpbx_sip_requests_total{method="other"} 1`,
		`deskpbx_sip_requests_total{method="BYE"} 0`,
		`deskpbx_sip_responses_total{code="180",method="INVITE"} 1`,
		`deskpbx_sip_responses_total{code="401",method="REGISTER"} 1`,
		`deskpbx_sip_responses_total{code="other",method="REGISTER"} 1`,
		`deskpbx_rtp_packets_sent_total 600`,
		`deskpbx_rtp_packets_late_total 3`,
		`deskpbx_rtp_packets_lost_total 3`,
		`deskpbx_calls_total{outcome="answered"} 1`,
		`deskpbx_hotdesk_login_attempts_total{outcome="wrong_pin"} 1`,
		`deskpbx_hotdesk_lockouts_total 1`,
	)
	if !strings.Contains(body, "go_goroutines ") || !strings.Contains(body, "process_resident_memory_bytes ") {
		t.Error("scrape lacks Go runtime and process metrics")
	}
	metricstest.PromtoolCheck(t, body)

	// Gauges are read at scrape time, not cached.
	seats = 4
	wantLines(t, metricstest.Get(t, srv.URL), `deskpbx_hotdesk_seats_in_use 4`)

	// A source that fails drops its own metric only.
	seatsErr = errors.New("database is locked")
	body = metricstest.Get(t, srv.URL)
	if strings.Contains(body, "deskpbx_hotdesk_seats_in_use ") {
		t.Error("a failed seats query still produced a value")
	}
	wantLines(t, body, `deskpbx_registrations 7`)
}

func TestDiscardRecordsNothingAndSatisfiesRecorder(t *testing.T) {
	Discard.SIPRequest("INVITE")
	Discard.RTP(1, 2, 3)
}

func TestAccessLoopbackAllowListAndToken(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") })
	allow, err := ParseAllow(" 10.1.0.0/16, 192.0.2.10 ,2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"10.1.0.0/33", "pbx.example", "10.1.0.0/16,,nope"} {
		if _, err := ParseAllow(bad); err == nil {
			t.Errorf("ParseAllow(%q) accepted", bad)
		}
	}
	cases := []struct {
		name, remote, auth, forwarded string
		access                        Access
		want                          int
	}{
		{name: "loopback needs nothing", remote: "127.0.0.1:40000", want: 200},
		{name: "IPv6 loopback", remote: "[::1]:40000", want: 200},
		{name: "LAN address, nothing configured", remote: "192.0.2.7:40000", want: 403},
		{name: "forwarded-for grants nothing", remote: "192.0.2.7:40000", forwarded: "127.0.0.1", want: 403},
		{name: "in the allow-list", remote: "10.1.200.3:40000", access: Access{Allow: allow}, want: 200},
		{name: "single address allowed", remote: "192.0.2.10:40000", access: Access{Allow: allow}, want: 200},
		{name: "IPv4-mapped IPv6 in the list", remote: "[::ffff:10.1.0.9]:40000", access: Access{Allow: allow}, want: 200},
		{name: "outside the allow-list", remote: "192.0.2.11:40000", access: Access{Allow: allow}, want: 403},
		{name: "token missing", remote: "192.0.2.7:40000", access: Access{Token: "s3cret-token"}, want: 401},
		{name: "token wrong", remote: "192.0.2.7:40000", auth: "Bearer s3cret-tokeN", access: Access{Token: "s3cret-token"}, want: 401},
		{name: "token right", remote: "192.0.2.7:40000", auth: "Bearer s3cret-token", access: Access{Token: "s3cret-token"}, want: 200},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/metrics", nil)
		r.RemoteAddr = c.remote
		if c.auth != "" {
			r.Header.Set("Authorization", c.auth)
		}
		if c.forwarded != "" {
			r.Header.Set("X-Forwarded-For", c.forwarded)
		}
		w := httptest.NewRecorder()
		c.access.Wrap(ok).ServeHTTP(w, r)
		if w.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, w.Code, c.want)
		}
		if w.Code == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
}
