package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"deskpbx/store"
)

// receiver is an office's CRM on loopback: it checks every delivery's
// signature with the secret it was given and answers with the next
// status in its script (200 once the script runs out).
type receiver struct {
	srv    *httptest.Server
	secret string

	mu      sync.Mutex
	script  []int
	got     []delivery
	arrived chan delivery
}

type delivery struct {
	header   http.Header
	body     []byte
	envelope Envelope
	verified error
	status   int
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script, arrived: make(chan delivery, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{header: req.Header.Clone(), body: body, status: 200}
		json.Unmarshal(body, &d.envelope)
		r.mu.Lock()
		d.verified = Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute)
		if len(r.script) > 0 {
			d.status, r.script = r.script[0], r.script[1:]
		}
		r.got = append(r.got, d)
		r.mu.Unlock()
		w.WriteHeader(d.status)
		r.arrived <- d
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-r.arrived:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery arrived")
	}
	return delivery{}
}

// office is a database with tenant acme.example, and its Ada.
func office(t *testing.T) (path string, db *store.DB, tenantID int64, ada *store.Extension) {
	path = filepath.Join(t.TempDir(), "deskpbx.db")
	db = openDB(t, path)
	ctx := context.Background()
	tn, err := db.CreateTenant(ctx, "acme.example", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1001", Password: "pw-1001-long", Name: "Ada Lovelace"}); err != nil {
		t.Fatal(err)
	}
	ada, err = db.LookupExtension(ctx, "acme.example", "1001")
	if err != nil {
		t.Fatal(err)
	}
	return path, db, tn.ID, ada
}

func openDB(t *testing.T, path string) *store.DB {
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// running starts s.Run and returns its stop, which waits for it to end.
func running(s *Service) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func quickRetries(s *Service) *Service {
	s.FirstRetry, s.MaxRetry = time.Millisecond, 4*time.Millisecond
	return s
}

func addHook(t *testing.T, db *store.DB, r *receiver) *store.Webhook {
	t.Helper()
	h, err := Add(context.Background(), db, "ACME.example", r.srv.URL+"/deskpbx")
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Secret) != 64 {
		t.Fatalf("secret %q, want 256 bits in hex", h.Secret)
	}
	r.mu.Lock()
	r.secret = h.Secret
	r.mu.Unlock()
	return h
}

func TestEventsArriveSignedAndVerifiable(t *testing.T) {
	_, db, tenant, ada := office(t)
	crm := newReceiver(t)
	addHook(t, db, crm)
	s := New(db, slog.New(slog.DiscardHandler))
	defer running(s)()

	missed := MissedCall{CallID: "abc@192.0.2.7", Caller: Party{Number: "1002", Domain: "acme.example"}, Callee: PartyOf(ada), Reason: "busy"}
	if err := s.Emit(context.Background(), tenant, CallMissed, missed); err != nil {
		t.Fatal(err)
	}
	d := crm.next(t)
	if d.verified != nil {
		t.Fatalf("signature check: %v", d.verified)
	}
	e := d.envelope
	if e.Event != CallMissed || e.Tenant != "acme.example" || len(e.ID) != 32 || e.OccurredAt.IsZero() {
		t.Errorf("envelope %+v", e)
	}
	var data MissedCall
	if err := json.Unmarshal(e.Data, &data); err != nil || data != missed || data.Callee.Name != "Ada Lovelace" {
		t.Errorf("data %+v (%v), want %+v", data, err, missed)
	}
	if d.header.Get(EventHeader) != CallMissed || d.header.Get(DeliveryHeader) != e.ID || d.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", d.header)
	}

	// What a receiver's check refuses: a changed body, another secret, a
	// replay of this very request ten minutes on.
	now := time.Now()
	tampered := append([]byte(nil), d.body...)
	tampered[len(tampered)-2] ^= 1
	for name, err := range map[string]error{
		"tampered body": Verify(crm.secret, d.header, tampered, now, 5*time.Minute),
		"wrong secret":  Verify(NewSecret(), d.header, d.body, now, 5*time.Minute),
		"replayed late": Verify(crm.secret, d.header, d.body, now.Add(10*time.Minute), 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// And the timestamp is part of what is signed: moving it forward to
	// pass the age check breaks the signature.
	moved := d.header.Clone()
	moved.Set(TimestampHeader, strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10))
	if Verify(crm.secret, moved, d.body, now.Add(10*time.Minute), 5*time.Minute) == nil {
		t.Error("a request with a rewritten timestamp verified")
	}

	// A tenant without webhooks emits into nothing.
	other, _ := db.CreateTenant(context.Background(), "beta.example", "", false)
	if err := s.Emit(context.Background(), other.ID, CallMissed, missed); err != nil {
		t.Fatal(err)
	}
}

func TestReceiverFailingTwiceGetsTheEventOnTheThirdTry(t *testing.T) {
	_, db, tenant, ada := office(t)
	crm := newReceiver(t, 503, 500)
	hook := addHook(t, db, crm)
	s := quickRetries(New(db, slog.New(slog.DiscardHandler)))
	defer running(s)()

	if err := s.Emit(context.Background(), tenant, HotdeskLogin, map[string]any{"person": PartyOf(ada)}); err != nil {
		t.Fatal(err)
	}
	first, second, third := crm.next(t), crm.next(t), crm.next(t)
	if first.status != 503 || second.status != 500 || third.status != 200 {
		t.Fatalf("statuses %d, %d, %d; want 503, 500, 200", first.status, second.status, third.status)
	}
	for i, d := range []delivery{first, second, third} {
		if d.verified != nil || d.envelope.ID != first.envelope.ID || string(d.body) != string(first.body) {
			t.Errorf("attempt %d: %v, id %s; want the same signed event each time", i+1, d.verified, d.envelope.ID)
		}
	}
	hooks := waitHooks(t, db, func(h *store.Webhook) bool { return h.Pending == 0 })
	if len(hooks) != 1 || hooks[0].ID != hook.ID || hooks[0].Failed != 0 {
		t.Errorf("after delivery: %+v", hooks)
	}
	select {
	case d := <-crm.arrived:
		t.Errorf("a fourth delivery after the receiver accepted: %s", d.body)
	default:
	}
}

// A delivery that never succeeds is given up on after MaxAttempts.
func TestDeliveryIsGivenUpAfterMaxAttempts(t *testing.T) {
	_, db, tenant, _ := office(t)
	crm := newReceiver(t, 500, 500, 500, 500, 500)
	addHook(t, db, crm)
	s := quickRetries(New(db, slog.New(slog.DiscardHandler)))
	s.MaxAttempts = 3
	defer running(s)()
	if err := s.Emit(context.Background(), tenant, EmergencyCall, map[string]string{"number": "112"}); err != nil {
		t.Fatal(err)
	}
	waitHooks(t, db, func(h *store.Webhook) bool { return h.Failed == 1 && h.Pending == 0 })
	crm.mu.Lock()
	n := len(crm.got)
	crm.mu.Unlock()
	if n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
}

// deskpbx restarts while a receiver is down: the event it failed to
// deliver, and one emitted while nothing delivered, both arrive after
// the restart.
func TestRestartLosesNoEvent(t *testing.T) {
	path, db, tenant, ada := office(t)
	crm := newReceiver(t, 503)
	addHook(t, db, crm)
	s := quickRetries(New(db, slog.New(slog.DiscardHandler)))
	s.FirstRetry = time.Hour // not retried before the restart
	stop := running(s)
	if err := s.Emit(context.Background(), tenant, HotdeskLogin, map[string]any{"person": PartyOf(ada)}); err != nil {
		t.Fatal(err)
	}
	if d := crm.next(t); d.status != 503 {
		t.Fatalf("first attempt answered %d", d.status)
	}
	stop()
	// Emitted while no delivery loop runs (the server is going down).
	if err := s.Emit(context.Background(), tenant, HotdeskLogout, map[string]any{"person": PartyOf(ada)}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// The restart: the database opened afresh, the clock past the retry.
	db = openDB(t, path)
	db.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	s = New(db, slog.New(slog.DiscardHandler))
	defer running(s)()
	got := map[string]int{}
	for range 2 {
		d := crm.next(t)
		if d.status != 200 {
			t.Fatalf("after the restart the receiver answered %d", d.status)
		}
		got[d.envelope.Event]++
	}
	if got[HotdeskLogin] != 1 || got[HotdeskLogout] != 1 {
		t.Errorf("after the restart: %v, want the login and the logout once each", got)
	}
	waitHooks(t, db, func(h *store.Webhook) bool { return h.Pending == 0 })
}

func TestBackoffSpansAboutADay(t *testing.T) {
	s := New(nil, nil)
	var total time.Duration
	for n := 1; n < s.MaxAttempts; n++ {
		total += s.backoff(n)
	}
	if s.backoff(1) != 3*time.Minute || s.backoff(2) != 6*time.Minute || s.backoff(9) != 8*time.Hour {
		t.Errorf("backoff 1, 2, 9: %v, %v, %v", s.backoff(1), s.backoff(2), s.backoff(9))
	}
	if total < 18*time.Hour || total > 26*time.Hour {
		t.Errorf("%d attempts span %v, want about a day", s.MaxAttempts, total)
	}
}

func TestAddRefusesBadURLs(t *testing.T) {
	_, db, _, _ := office(t)
	for _, u := range []string{"ftp://crm.example/", "crm.example/hook", "https://user:pw@crm.example/", "http:///path"} {
		if _, err := Add(context.Background(), db, "acme.example", u); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("Add(%q): %v, want invalid", u, err)
		}
	}
}

// waitHooks polls the tenant's webhooks until ok holds for every one.
func waitHooks(t *testing.T, db *store.DB, ok func(*store.Webhook) bool) []*store.Webhook {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		hooks, err := db.Webhooks(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		all := true
		for _, h := range hooks {
			all = all && ok(h)
		}
		if all {
			return hooks
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks never reached the expected state: %+v", hooks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
