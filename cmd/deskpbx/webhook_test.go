package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/internal/testphone"
	"deskpbx/metrics/metricstest"
	"deskpbx/webhook"
)

// An admin points acme's CRM at deskpbx: the secret is printed once and
// never listed; Ada's call to Grace, whose phone is busy, reaches the CRM
// as Grace's missed call, signed with that secret.
func TestWebhookCommandsAndAMissedCallDelivered(t *testing.T) {
	dbPath := acmeOffice(t)

	type post struct {
		header http.Header
		body   []byte
	}
	posts := make(chan post, 8)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		posts <- post{r.Header.Clone(), body}
	}))
	defer crm.Close()

	deskpbx(t, "webhook", "add", "-db", dbPath, "acme.example", "ftp://crm.example/").mustFail(t, "webhook add ftp", 1, "http:// or https://")
	deskpbx(t, "webhook", "add", "-db", dbPath, "nowhere.example", crm.URL).mustFail(t, "webhook add unknown tenant", 1, "no tenant")
	out := deskpbx(t, "webhook", "add", "-db", dbPath, "acme.example", crm.URL+"/hooks/deskpbx").mustSucceed(t, "webhook add").stdout
	m := regexp.MustCompile(`secret \(shown only now[^)]*\): ([0-9a-f]{64})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("webhook add printed no secret:\n%s", out)
	}
	secret := m[1]
	list := deskpbx(t, "webhook", "list", "-db", dbPath, "acme.example").mustSucceed(t, "webhook list").stdout
	if !strings.Contains(list, crm.URL+"/hooks/deskpbx") || strings.Contains(list, secret) {
		t.Fatalf("webhook list shows %q: want the URL and never the secret", list)
	}

	// Grace has no voicemail, so her busy phone's 486 reaches Ada (with
	// voicemail on, the mailbox would take the call).
	mailboxOff(t, dbPath, "1002")
	sip, _, stop := serveOffice(t, dbPath)
	defer stop()
	ada, grace := adaAndGrace(t, sip)
	grace.SetAnswer(486)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := ada.Dial(ctx, "1002"); testphone.StatusOf(err) != 486 {
		t.Fatalf("call to the busy phone: %v, want 486", err)
	}

	var p post
	select {
	case p = <-posts:
	case <-ctx.Done():
		t.Fatal("no webhook POST for the missed call")
	}
	if err := webhook.Verify(secret, p.header, p.body, time.Now(), 5*time.Minute); err != nil {
		t.Fatalf("the CRM cannot verify the POST: %v", err)
	}
	var env webhook.Envelope
	var missed webhook.MissedCall
	if err := json.Unmarshal(p.body, &env); err != nil || json.Unmarshal(env.Data, &missed) != nil {
		t.Fatalf("body %s: %v", p.body, err)
	}
	if env.Event != webhook.CallMissed || env.Tenant != "acme.example" || missed.Reason != "busy" ||
		missed.Callee.Number != "1002" || missed.Callee.Name != "Grace Hopper" || missed.Caller.Number != "1001" || missed.CallID == "" {
		t.Errorf("event %+v, data %+v; want Grace's missed call from Ada, busy", env, missed)
	}

	r := deskpbx(t, "webhook", "list", "-db", dbPath).mustSucceed(t, "webhook list")
	id := strings.Fields(strings.Split(r.stdout, "\n")[1])[0]
	deskpbx(t, "webhook", "remove", "-db", dbPath, id).mustSucceed(t, "webhook remove")
	deskpbx(t, "webhook", "remove", "-db", dbPath, id).mustFail(t, "webhook remove twice", 1, "no webhook")
	deskpbx(t, "webhook", "remove", "-db", dbPath, "crm").mustFail(t, "webhook remove by name", 2, "no webhook ID")
	if list := deskpbx(t, "webhook", "list", "-db", dbPath).mustSucceed(t, "webhook list").stdout; strings.Contains(list, crm.URL) {
		t.Errorf("removed webhook still listed:\n%s", list)
	}
}

// Ada logs in at Grace's phone with *072, once with a wrong password
// first, then out with *073: the scrape counts both attempts, and the
// CRM hears of the login and the logout.
func TestHotdeskLoginsReachMetricsAndWebhooks(t *testing.T) {
	dbPath := acmeOffice(t)
	deskpbx(t, "hotdesk", "add", "-db", dbPath, "-id", "700100", "-password", "482913", "acme.example", "1001").mustSucceed(t, "hotdesk add")
	posts := make(chan webhook.Envelope, 8)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env webhook.Envelope
		json.NewDecoder(r.Body).Decode(&env)
		posts <- env
	}))
	defer crm.Close()
	deskpbx(t, "webhook", "add", "-db", dbPath, "acme.example", crm.URL).mustSucceed(t, "webhook add")

	sip, url, stop := serveOffice(t, dbPath)
	defer stop()
	desk := testphone.New(t, sip, "1002", "acme.example", "long-secret-1002")
	desk.Register()
	desk.KeyIn(t, "*072", "700100#111111#700100#482913#")
	desk.KeyIn(t, "*073", "700100#482913#")

	var got []string
	for len(got) < 2 {
		select {
		case env := <-posts:
			var c webhook.HotdeskChange
			json.Unmarshal(env.Data, &c)
			got = append(got, env.Event+" "+c.Person.Number+" at "+c.Seat.Number+" "+c.Reason)
		case <-time.After(10 * time.Second):
			t.Fatalf("webhook events so far: %v, want a login and a logout", got)
		}
	}
	slices.Sort(got) // delivered in parallel: the order of arrival is not promised
	if want := []string{"hotdesk.login 1001 at 1002 ", "hotdesk.logout 1001 at 1002 *073"}; !slices.Equal(got, want) {
		t.Errorf("webhook events %q, want %q", got, want)
	}
	body := metricstest.Get(t, url+"metrics")
	scrapeHas(t, body,
		`deskpbx_hotdesk_login_attempts_total{outcome="ok"} 1`,
		`deskpbx_hotdesk_login_attempts_total{outcome="wrong_pin"} 1`,
		`deskpbx_hotdesk_lockouts_total 0`,
	)
	metricstest.PromtoolCheck(t, body)
}

// An admin's `hotdesk logout` from the shell writes its event to the
// outbox, for the running server to deliver.
func TestHotdeskLogoutCommandQueuesItsEvent(t *testing.T) {
	dbPath := acmeOffice(t)
	deskpbx(t, "hotdesk", "add", "-db", dbPath, "-id", "700100", "-password", "482913", "acme.example", "1001").mustSucceed(t, "hotdesk add")
	deskpbx(t, "webhook", "add", "-db", dbPath, "acme.example", "https://crm.acme.example/in").mustSucceed(t, "webhook add")
	db := openStore(t, dbPath)
	ctx := context.Background()
	seat, err := db.LookupExtension(ctx, "acme.example", "1002")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hotdesk.New(db, nil).Login(ctx, "700100", "482913", seat, "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	deskpbx(t, "hotdesk", "logout", "-db", dbPath, "700100").mustSucceed(t, "hotdesk logout")
	due, err := db.DueWebhookDeliveries(ctx, 10)
	if err != nil || len(due) != 1 || due[0].Event != webhook.HotdeskLogout || !strings.Contains(string(due[0].Body), `"reason":"force-logout"`) {
		t.Fatalf("outbox after the logout command: %+v, %v; want one hotdesk.logout, force-logout", due, err)
	}
}
