package main

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"deskpbx/hotdesk"
	"deskpbx/internal/testphone"
	"deskpbx/metrics/metricstest"
)

// An office's local Prometheus scrapes the admin listener: it sees the
// phone that registered and the person hot-desked at another, with no
// token, while every other path still reaches the admin page.
func TestMetricsOnTheAdminListener(t *testing.T) {
	dbPath := testDB(t)
	deskpbx(t, "tenant", "add", "-db", dbPath, "acme.example").mustSucceed(t, "tenant add")
	deskpbx(t, "ext", "add", "-db", dbPath, "-password", "long-secret-1001", "acme.example", "1001").mustSucceed(t, "ext add")
	deskpbx(t, "ext", "add", "-db", dbPath, "-password", "long-secret-1002", "acme.example", "1002").mustSucceed(t, "ext add")
	deskpbx(t, "hotdesk", "add", "-db", dbPath, "-id", "700100", "-password", "482913", "acme.example", "1001").mustSucceed(t, "hotdesk add")

	log, stop := startServe(t, dbPath)
	defer stop()
	sip := regexp.MustCompile(`sip=(\S+)`).FindStringSubmatch(log)
	url := regexp.MustCompile(`msg="admin page listening" url=(\S+)`).FindStringSubmatch(log)
	if sip == nil || url == nil {
		t.Fatalf("no SIP or admin address in the log:\n%s", log)
	}

	phone := testphone.New(t, sip[1], "1002", "acme.example", "long-secret-1002")
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

	body := metricstest.Get(t, url[1]+"metrics")
	for _, line := range []string{
		"deskpbx_registrations 1",
		"deskpbx_hotdesk_seats_in_use 1",
		`deskpbx_active_calls{state="answered"} 0`,
		"deskpbx_hotdesk_logins_completed_total 0",
	} {
		if !strings.Contains(body, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	metricstest.PromtoolCheck(t, body)

	metricstest.Get(t, url[1]+"healthz")
	if page := metricstest.Get(t, url[1]+"login"); strings.Contains(page, "deskpbx_") {
		t.Error("the admin login page serves metrics")
	}
}
