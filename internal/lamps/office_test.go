package lamps_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/internal/lamps"
	"deskpbx/internal/testphone"
	"deskpbx/mwi"
	"deskpbx/pbx"
	"deskpbx/presence"
	"deskpbx/store"
)

// office is deskpbx as the binary runs it, with hot desking and lamps:
// acme.example has 1001 (Ada Lovelace, hot-desk ID 5551234, PIN 4826),
// 1002 (Grace Hopper), 1003 (a desk phone) and 1004 (a receptionist's
// phone with BLF keys); globex.example has 2001.
type office struct {
	t      testing.TB
	db     *store.DB
	srv    *pbx.Server
	hd     *hotdesk.Service
	lights *mwi.Lights
	people *presence.Tracker
	boxes  *mailboxes
}

// mailboxes stands in for the voicemail package's counts, which this
// change does not own: the counts a test sets are what a mailbox holds.
type mailboxes struct {
	mu     sync.Mutex
	counts map[string][2]int // AOR -> new, saved
}

func (m *mailboxes) Counts(_ context.Context, box *store.Extension) (int, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[box.AOR()]
	return c[0], c[1], nil
}

func (m *mailboxes) set(aor string, newMsgs, saved int) {
	m.mu.Lock()
	m.counts[aor] = [2]int{newMsgs, saved}
	m.mu.Unlock()
}

func newOffice(t testing.TB) *office {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"acme.example", "globex.example"} {
		if _, err := db.CreateTenant(ctx, d, "", false); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range []store.NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "pw-1001-x", Name: "Ada Lovelace"},
		{Domain: "acme.example", Number: "1002", Password: "pw-1002-x", Name: "Grace Hopper"},
		{Domain: "acme.example", Number: "1003", Password: "pw-1003-x"},
		{Domain: "acme.example", Number: "1004", Password: "pw-1004-x"},
		{Domain: "globex.example", Number: "2001", Password: "pw-2001-x"},
	} {
		if _, err := db.CreateExtension(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551234", PIN: "4826"}, "test"); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("DESKPBX_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := pbx.New(pbx.Config{DB: db, Log: log, SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{32000, 32999}})
	if err != nil {
		t.Fatal(err)
	}
	o := &office{t: t, db: db, srv: srv, hd: hotdesk.New(db, log), boxes: &mailboxes{counts: make(map[string][2]int)}}
	o.lights = &mwi.Lights{Dir: db, Mailboxes: o.boxes, Seating: o.hd}
	srv.SetDialPlan(dialplan.New(db, o.hd))
	o.people = presence.NewTracker(db)
	lamps.Wire(srv, o.people, o.lights)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		db.Close()
	})
	return o
}

func (o *office) phone(number string) *testphone.Phone {
	return testphone.New(o.t, o.srv.SIPAddr(), number, "acme.example", "pw-"+number+"-x")
}

// registered is the phone of extension number, registered.
func (o *office) registered(number string) *testphone.Phone {
	p := o.phone(number)
	p.Register()
	return p
}

func (o *office) ext(number string) *store.Extension {
	e, err := o.db.LookupExtension(context.Background(), "acme.example", number)
	if err != nil {
		o.t.Fatal(err)
	}
	return e
}

// sitAt logs Ada (hot-desk ID 5551234) in at seat, as *072 would.
func (o *office) sitAt(seat string) {
	o.t.Helper()
	if _, err := o.hd.Login(context.Background(), "5551234", "4826", o.ext(seat), "127.0.0.1:9"); err != nil {
		o.t.Fatalf("login at %s: %v", seat, err)
	}
}

// adaAtTheDesk is an office where Ada is hot-desked at the desk phone
// 1003 and Grace (1002) is at her own; the reception phone (1004) has a
// BLF key on Ada and one on the desk's own extension, both past their
// first NOTIFY.
func adaAtTheDesk(t *testing.T) (o *office, desk, grace *testphone.Phone, adaKey, deskKey *testphone.Subscription) {
	t.Helper()
	o = newOffice(t)
	desk, grace = o.phone("1003"), o.phone("1002")
	desk.Register()
	grace.Register()
	o.sitAt("1003")
	reception := o.phone("1004")
	adaKey, _ = reception.Subscribe("1001", "dialog", 600)
	deskKey, _ = reception.Subscribe("1003", "dialog", 600)
	adaKey.Next()
	deskKey.Next()
	return o, desk, grace, adaKey, deskKey
}

// peer is the path of a real SIP peer's binary; without it the test is
// skipped, or fails when DESKPBX_REQUIRE_PEERS is set.
func peer(t *testing.T, bin, debian string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err == nil {
		return path
	}
	msg := bin + " is not installed (Debian: " + debian + ")"
	if os.Getenv("DESKPBX_REQUIRE_PEERS") != "" {
		t.Fatal(msg + " and DESKPBX_REQUIRE_PEERS is set")
	}
	t.Skip(msg)
	return ""
}

// converse has caller dial number and callee answer once the test has
// looked at the ringing (at "early"), then caller hang up once the test
// has looked at the answered call (at "confirmed"); at "terminated" the
// call is over for both.
func converse(t *testing.T, caller, callee *testphone.Phone, number string, at func(stage string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	callee.SetAnswer(testphone.RingForever)
	type dialled struct {
		err error
		bye func(context.Context) error
	}
	done := make(chan dialled, 1)
	go func() {
		d, err := caller.Dial(ctx, number)
		r := dialled{err: err}
		if d != nil {
			r.bye = d.Bye
		}
		done <- r
	}()
	in := testphone.Await(t, callee.Incoming, "the call ringing at "+callee.User)
	at("early")
	if err := in.Dialog.RespondSDP(testphone.SDP(4002, "sendrecv")); err != nil {
		t.Fatalf("%s answers: %v", callee.User, err)
	}
	r := testphone.Await(t, done, "the answer at "+caller.User)
	if r.err != nil {
		t.Fatalf("call %s -> %s: %v", caller.User, number, r.err)
	}
	at("confirmed")
	if err := r.bye(ctx); err != nil {
		t.Fatalf("%s hangs up: %v", caller.User, err)
	}
	testphone.Await(t, callee.Byes, "BYE at "+callee.User)
	at("terminated")
}
