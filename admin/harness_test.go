package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/internal/testclock"
	"deskpbx/internal/testphone"
	"deskpbx/pbx"
	"deskpbx/store"
)

func init() {
	// Tests log in hundreds of times; the cost of a production hash would
	// only make them slow.
	store.AdminPasswordCost = bcrypt.MinCost
}

func testLogger() *slog.Logger {
	if os.Getenv("DESKPBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// office is a small two-tenant deployment: acme.example and beta.example,
// each with an admin and extensions, a system admin over both, a real
// PBX on 127.0.0.1 and the admin page on an httptest server.
type office struct {
	t       *testing.T
	db      *store.DB
	pbx     *pbx.Server
	hotdesk *hotdesk.Service
	srv     *Server
	http    *httptest.Server
	now     *testclock.Clock

	acme, beta         *store.Tenant
	ada, grace, bob    *store.Extension // 1001, 1002 of acme; 2001 of beta
	root, acmeBoss     *store.Admin
	betaBoss           *store.Admin
	passwords          map[string]string // by username
	rootPW, acmeBossPW string
}

// livePBX shows the test's real *pbx.Server to the page, as the binary's
// AdminPBX (cmd/deskpbx) does; only this test file imports pbx.
type livePBX struct{ *pbx.Server }

func (p livePBX) Bindings() []store.Binding { return p.Location().All() }

func (p livePBX) Calls() []Call {
	var out []Call
	for _, c := range p.ActiveCalls() {
		out = append(out, Call{ID: c.ID, CallID: c.CallID, Caller: c.Caller, As: c.As, Callee: c.Callee, Started: c.Started, Answered: c.Answered,
			TransferredBy: c.TransferredBy, TransferredTo: c.TransferredTo, PickedUpBy: c.PickedUpBy})
	}
	return out
}

func newOffice(t *testing.T, tweak ...func(*Config)) *office {
	t.Helper()
	return buildOffice(t, false, tweak...)
}

// buildOffice is the test office; withCalls wires hot desking into call
// routing before the PBX starts, as `deskpbx serve` does, with the page
// and the calls sharing one hot-desk service.
func buildOffice(t *testing.T, withCalls bool, tweak ...func(*Config)) *office {
	t.Helper()
	o := emptyOffice(t)
	db := o.db
	ctx := context.Background()
	var err error
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	o.acme, err = db.CreateTenant(ctx, "acme.example", "", true)
	must(err)
	o.beta, err = db.CreateTenant(ctx, "beta.example", "", false)
	must(err)
	o.ada, err = db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1001", Password: "Ada-Secret-77", Name: "Ada Lovelace"})
	must(err)
	o.grace, err = db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1002", Password: "Grace-Secret-77", Name: "Grace Hopper"})
	must(err)
	o.bob, err = db.CreateExtension(ctx, store.NewExtension{Domain: "beta.example", Number: "2001", Password: "Bob-Secret-77", Name: "Bob Beta"})
	must(err)
	o.root = o.addAdmin("root", 0)
	o.acmeBoss = o.addAdmin("acme-boss", o.acme.ID)
	o.betaBoss = o.addAdmin("beta-boss", o.beta.ID)

	o.pbx, err = pbx.New(pbx.Config{DB: db, Log: testLogger(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{32000, 32999}})
	must(err)
	o.hotdesk = hotdesk.New(db, testLogger())
	o.hotdesk.Now = o.now.Now
	autoCtx, autoStop := context.WithCancel(ctx)
	autoDone := make(chan struct{})
	if withCalls {
		o.pbx.SetDialPlan(dialplan.New(db, o.hotdesk))
		go func() {
			defer close(autoDone)
			o.hotdesk.RunAutoLogout(autoCtx)
		}()
	} else {
		o.pbx.SetDialPlan(dialplan.New(db, nil))
		close(autoDone)
	}
	must(o.pbx.Start(ctx))
	cfg := Config{DB: db, PBX: livePBX{o.pbx}, HotDesk: o.hotdesk, Log: testLogger(), LiveInterval: 100 * time.Millisecond}
	for _, f := range tweak {
		f(&cfg)
	}
	o.srv, err = New(cfg)
	must(err)
	o.http = httptest.NewServer(o.srv.Handler())
	t.Cleanup(func() {
		o.srv.Close()
		o.http.Close()
		o.pbx.Shutdown(context.Background())
		autoStop()
		<-autoDone
		db.Close()
	})
	return o
}

// emptyOffice is an office with nothing but its database, on the
// office's clock.
func emptyOffice(t *testing.T) *office {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	o := &office{t: t, db: db, now: &testclock.Clock{}, passwords: map[string]string{}}
	db.Now = o.now.Now
	return o
}

func (o *office) addAdmin(username string, tenantID int64) *store.Admin {
	o.t.Helper()
	pw := "Blue-Heron-" + strconv.Itoa(len(o.passwords)) + "-x!"
	a, err := o.db.CreateAdmin(context.Background(), username, pw, tenantID)
	if err != nil {
		o.t.Fatal(err)
	}
	o.passwords[username] = pw
	return a
}

// browser is one admin's browser: a cookie jar that does not follow
// redirects, so tests see each answer.
type browser struct {
	t    *testing.T
	o    *office
	c    *http.Client
	csrf string
}

func (o *office) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: o.t, o: o, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login logs username in and picks up the CSRF token of the session.
func (o *office) login(username string) *browser {
	o.t.Helper()
	b := o.browser()
	res := b.tryLogin(username, o.passwords[username])
	if res.status != http.StatusSeeOther {
		o.t.Fatalf("login %s: %d\n%s", username, res.status, res.body)
	}
	home := b.get("/")
	if home.status != 200 {
		o.t.Fatalf("dashboard after login: %d", home.status)
	}
	return b
}

func (b *browser) tryLogin(username, password string) response {
	b.t.Helper()
	page := b.get("/login")
	m := csrfField.FindStringSubmatch(page.body)
	if m == nil {
		b.t.Fatalf("no csrf on login page:\n%s", page.body)
	}
	return b.postRaw("/login", url.Values{"csrf": {m[1]}, "username": {username}, "password": {password}})
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	r := response{status: res.StatusCode, body: string(body), location: res.Header.Get("Location"), header: res.Header}
	if m := csrfField.FindStringSubmatch(r.body); m != nil && req.URL.Path != "/login" {
		b.csrf = m[1]
	}
	return r
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.o.http.URL+path, nil)
	return b.do(req)
}

// post sends a form with the session's CSRF token.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	return b.postRaw(path, form)
}

func (b *browser) postRaw(path string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.o.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// apiToken creates an API token on the Account page, as an admin would.
func (b *browser) apiToken(name string) string {
	b.t.Helper()
	res := b.post("/account/tokens", url.Values{"name": {name}})
	m := regexp.MustCompile(`value="(dpx_[^"]+)"`).FindStringSubmatch(res.body)
	if res.status != 200 || m == nil {
		b.t.Fatalf("creating a token: %d\n%s", res.status, res.body)
	}
	return m[1]
}

// api calls the JSON API with a bearer token and decodes the answer into out.
func (o *office) api(token, method, path string, in any, out any) int {
	o.t.Helper()
	var body io.Reader
	if s, ok := in.(string); ok {
		body = strings.NewReader(s)
	} else if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, o.http.URL+"/api/v1"+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if p, ok := out.(*string); ok {
			*p = string(raw)
		} else if err := json.Unmarshal(raw, out); err != nil {
			o.t.Fatalf("%s %s: %d, undecodable %q: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// phone is a phone of extension e, not yet registered.
func (o *office) phone(e *store.Extension, password string) *testphone.Phone {
	return testphone.New(o.t, o.pbx.SIPAddr(), e.Number, e.Domain, password)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
