package main

import (
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/internal/testphone"
	"deskpbx/metrics/metricstest"
)

// An office's local Prometheus scrapes the admin listener: it sees the
// phone that registered and the person hot-desked at another, with no
// token, while every other path still reaches the admin page.
func TestMetricsOnTheAdminListener(t *testing.T) {
	dbPath := acmeOffice(t)
	deskpbx(t, "hotdesk", "add", "-db", dbPath, "-id", "700100", "-password", "482913", "acme.example", "1001").mustSucceed(t, "hotdesk add")

	sip, url, stop := serveOffice(t, dbPath)
	defer stop()

	phone := testphone.New(t, sip, "1002", "acme.example", "long-secret-1002")
	phone.Register()
	// 1001 logs in at phone 1002 through the same database the
	// server reads at scrape time.
	db := openStore(t, dbPath)
	seat, err := db.LookupExtension(context.Background(), "acme.example", "1002")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hotdesk.New(db, slog.New(slog.DiscardHandler)).Login(context.Background(), "700100", "482913", seat, "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}

	body := metricstest.Get(t, url+"metrics")
	scrapeHas(t, body,
		"deskpbx_registrations 1",
		"deskpbx_hotdesk_seats_in_use 1",
		`deskpbx_active_calls{state="answered"} 0`,
		"deskpbx_hotdesk_logins_completed_total 0",
	)
	metricstest.PromtoolCheck(t, body)

	metricstest.Get(t, url+"healthz")
	if page := metricstest.Get(t, url+"login"); strings.Contains(page, "deskpbx_") {
		t.Error("the admin login page serves metrics")
	}
}

// A phone registers, calls another that answers, and runs the echo test:
// a scrape afterwards shows the REGISTERs and their challenges, the
// INVITEs and their answers, the answered calls and the echo test's RTP.
func TestMetricsCountSIPCallsAndRTP(t *testing.T) {
	dbPath := acmeOffice(t)
	sip, url, stop := serveOffice(t, dbPath)
	defer stop()
	ada, _ := adaAndGrace(t, sip)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	call, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatal(err)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	media := testphone.NewMedia(t)
	echo, err := ada.DialFeature(ctx, "*43", media)
	if err != nil {
		t.Fatal(err)
	}
	media.Answered(t, echo.InviteResponse.Body())
	for len(media.Received()) < 10 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if err := echo.Bye(ctx); err != nil {
		t.Fatal(err)
	}

	// A call is counted as its handler finishes, just after the BYE's
	// answer: scrape until both are in.
	var body string
	for ctx.Err() == nil {
		body = metricstest.Get(t, url+"metrics")
		if strings.Contains(body, "\n"+`deskpbx_calls_total{outcome="answered"} 2`+"\n") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	scrapeHas(t, body,
		`deskpbx_calls_total{outcome="answered"} 2`,
		`deskpbx_sip_requests_total{method="REGISTER"} 4`,
		`deskpbx_sip_responses_total{code="401",method="REGISTER"} 2`,
		`deskpbx_sip_responses_total{code="200",method="REGISTER"} 2`,
		`deskpbx_sip_responses_total{code="407",method="INVITE"} 2`,
		`deskpbx_sip_responses_total{code="200",method="INVITE"} 2`,
		`deskpbx_sip_requests_total{method="BYE"} 2`,
	)
	sent := regexp.MustCompile(`\ndeskpbx_rtp_packets_sent_total (\d+)\n`).FindStringSubmatch(body)
	if sent == nil {
		t.Fatal("/metrics lacks deskpbx_rtp_packets_sent_total")
	}
	if n, _ := strconv.Atoi(sent[1]); n < len(media.Received()) {
		t.Errorf("rtp_packets_sent_total %v, but the phone received %d", sent, len(media.Received()))
	}
	metricstest.PromtoolCheck(t, body)
}

// acmeOffice is a database with tenant acme.example and extensions 1001
// (Ada Lovelace) and 1002 (Grace Hopper), passwords long-secret-NUMBER.
func acmeOffice(t *testing.T) string {
	dbPath := testDB(t)
	deskpbx(t, "tenant", "add", "-db", dbPath, "acme.example").mustSucceed(t, "tenant add")
	for number, name := range map[string]string{"1001": "Ada Lovelace", "1002": "Grace Hopper"} {
		deskpbx(t, "ext", "add", "-db", dbPath, "-password", "long-secret-"+number, "-name", name, "acme.example", number).mustSucceed(t, "ext add")
	}
	return dbPath
}

// adaAndGrace are acmeOffice's two phones, registered at sip.
func adaAndGrace(t *testing.T, sip string) (ada, grace *testphone.Phone) {
	ada = testphone.New(t, sip, "1001", "acme.example", "long-secret-1001")
	grace = testphone.New(t, sip, "1002", "acme.example", "long-secret-1002")
	ada.Register()
	grace.Register()
	return ada, grace
}

// serveOffice runs the server on dbPath and returns the address phones
// use and the admin page's URL.
func serveOffice(t *testing.T, dbPath string) (sip, url string, stop func()) {
	log, stop := startServe(t, dbPath)
	s := regexp.MustCompile(`sip=(\S+)`).FindStringSubmatch(log)
	u := regexp.MustCompile(`msg="admin page listening" url=(\S+)`).FindStringSubmatch(log)
	if s == nil || u == nil {
		stop()
		t.Fatalf("no SIP or admin address in the log:\n%s", log)
	}
	return s[1], u[1], stop
}

// scrapeHas fails t for each line the scrape body lacks.
func scrapeHas(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, line := range lines {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
