package pbx

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/hotdesk"
	"deskpbx/internal/testphone"
	"deskpbx/store"
)

type office struct {
	t   *testing.T
	db  *store.DB
	srv *Server
	dir string
	// hotdesk, if set, is part of the dial plan of each new Server.
	hotdesk *hotdesk.Service
	// amend, if set, changes the dial plan's routes (for policies the
	// office's own plan does not have yet).
	amend func(*Route)
	// wire, if set, installs observers on each new Server before it starts.
	wire func(*Server)
}

// amendedPlan is a dial plan with every route passed through amend.
type amendedPlan struct {
	DialPlan
	amend func(*Route)
}

func (p amendedPlan) Route(ctx context.Context, req *CallRequest) Route {
	r := p.DialPlan.Route(ctx, req)
	p.amend(&r)
	return r
}

// OfficeDialPlan is the dial plan a test office routes with, as the
// binary wires it. officeplan_test.go (package pbx_test) sets it: it may
// import dialplan, which imports pbx, and a file of package pbx may not.
var OfficeDialPlan func(db *store.DB, hd *hotdesk.Service) DialPlan

func testLogger() *slog.Logger {
	if os.Getenv("DESKPBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newOffice starts deskpbx on a fresh database with tenant acme.example
// and extensions 1001 (Ada Lovelace), 1002 (Grace Hopper), 1003.
func newOffice(t *testing.T, tweak ...func(*Config)) *office {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "pw-1001-x", Name: "Ada Lovelace"},
		{Domain: "acme.example", Number: "1002", Password: "pw-1002-x", Name: "Grace Hopper"},
		{Domain: "acme.example", Number: "1003", Password: "pw-1003-x"},
	} {
		if _, err := db.CreateExtension(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	o := &office{t: t, db: db, dir: dir}
	o.start(tweak...)
	t.Cleanup(func() {
		o.stop()
		db.Close()
	})
	return o
}

func (o *office) start(tweak ...func(*Config)) {
	o.t.Helper()
	cfg := Config{DB: o.db, Log: testLogger(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{30000, 30999}}
	for _, f := range tweak {
		f(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		o.t.Fatal(err)
	}
	plan := OfficeDialPlan(o.db, o.hotdesk)
	if o.amend != nil {
		plan = amendedPlan{plan, o.amend}
	}
	srv.SetDialPlan(plan)
	if o.wire != nil {
		o.wire(srv)
	}
	if err := srv.Start(context.Background()); err != nil {
		o.t.Fatal(err)
	}
	o.srv = srv
}

func (o *office) stop() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o.srv.Shutdown(ctx)
	o.srv = nil
}

// phone is a phone of extension user of acme.example, not yet registered.
func (o *office) phone(user string) *testphone.Phone {
	return testphone.New(o.t, o.srv.SIPAddr(), user, "acme.example", "pw-"+user+"-x")
}

// adaAndGrace is an office with Ada (1001) and Grace (1002) registered,
// the two phones most call stories need.
func adaAndGrace(t *testing.T, tweak ...func(*Config)) (*office, *testphone.Phone, *testphone.Phone) {
	t.Helper()
	o := newOffice(t, tweak...)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	return o, ada, grace
}

// waitFor is testphone.Await, by the name pbx's tests have always used.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return testphone.Await(t, ch, what)
}

// callCtx bounds the calls of one test.
func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// adaCallsGrace has Ada dial 1002 and Grace's phone answer: the
// caller's dialog and the INVITE Grace got.
func adaCallsGrace(t *testing.T, ctx context.Context, ada, grace *testphone.Phone) (*sipgo.DialogClientSession, *testphone.IncomingCall) {
	t.Helper()
	call, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("call 1001 -> 1002: %v", err)
	}
	return call, waitFor(t, grace.Incoming, "INVITE at 1002")
}

func TestCallRingsAnswersAndHangsUpFromCaller(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	ctx := callCtx(t)
	call, in := adaCallsGrace(t, ctx, ada, grace)
	from := in.Req.From()
	if from.DisplayName != "Ada Lovelace" || from.Address.User != "1001" {
		t.Fatalf("callee sees From %q <%s>, want the stored identity Ada Lovelace <1001>", from.DisplayName, from.Address.User)
	}
	if !strings.Contains(string(call.InviteResponse.Body()), "m=audio 4002 ") {
		t.Fatalf("caller got answer SDP %q, want the callee's SDP unchanged", call.InviteResponse.Body())
	}
	if !strings.Contains(string(in.Req.Body()), "m=audio 4000 ") {
		t.Fatalf("callee got offer %q, want the caller's SDP unchanged", in.Req.Body())
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("caller hangs up: %v", err)
	}
	waitFor(t, grace.Byes, "BYE at callee")
}

func TestCalleeHangsUp(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	ctx := callCtx(t)
	_, in := adaCallsGrace(t, ctx, ada, grace)
	// Wait for the PBX's ACK before hanging up, as a real phone would.
	deadline := time.Now().Add(5 * time.Second)
	for in.Dialog.LoadState() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := in.Dialog.Bye(ctx); err != nil {
		t.Fatalf("callee hangs up: %v", err)
	}
	waitFor(t, ada.Byes, "BYE at caller")
}

func TestBusyUnknownAndUnregistered(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	grace.SetAnswer(486)
	ctx := callCtx(t)
	for _, c := range []struct {
		number string
		want   int
	}{{"1002", 486}, {"1999", 404}, {"1003", 480}} {
		_, err := ada.Dial(ctx, c.number)
		if got := testphone.StatusOf(err); got != c.want {
			t.Errorf("call to %s: got %d (%v), want %d", c.number, got, err, c.want)
		}
	}
}

func TestCallerCancelsWhileRinging(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	grace.SetAnswer(testphone.RingForever)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := ada.Dial(ctx, "1002"); done <- err }()
	in := waitFor(t, grace.Incoming, "INVITE at 1002")
	time.Sleep(200 * time.Millisecond) // let the 180 reach the caller
	cancel()
	waitFor(t, in.Cancelled, "CANCEL at callee")
	waitFor(t, done, "caller's INVITE to end")
}

// A caller who gives up while the callee's phone rings sends CANCEL; the
// INVITE it cancelled must then end with 487 Request Terminated (RFC 3261
// §9.2), and the ringing phone be cancelled too.
func TestCallerWhoCancelsGets487(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	grace.SetAnswer(testphone.RingForever)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type dialled struct {
		d   *sipgo.DialogClientSession
		err error
	}
	done := make(chan dialled, 1)
	go func() { d, err := ada.Dial(ctx, "1002"); done <- dialled{d, err} }()
	in := waitFor(t, grace.Incoming, "INVITE at 1002")
	// sipgo's caller sends CANCEL once a provisional response is in.
	cancel()
	waitFor(t, in.Cancelled, "CANCEL at callee")
	got := waitFor(t, done, "caller's INVITE to end")
	if got.d == nil || got.d.InviteResponse == nil {
		t.Fatalf("no response to the caller's INVITE (err %v)", got.err)
	}
	if code := got.d.InviteResponse.StatusCode; code != 487 {
		t.Fatalf("cancelled INVITE ended with %d, want 487", code)
	}
}

// What voicemail will do: a call that no phone takes (busy, or nobody
// registered) is answered by the PBX with its own media, and a feature
// runs on it for the caller.
func TestUnansweredCallIsAnsweredByTheNoAnswerFeature(t *testing.T) {
	o := newOffice(t)
	ran := make(chan string, 2)
	o.amend = func(r *Route) {
		if r.Ring != nil {
			r.Ring.NoAnswer = &FeatureRoute{Name: "after-ring", Run: func(ctx context.Context, fc *FeatureCall) {
				ran <- fc.Identity.Number
				<-ctx.Done() // until the caller hangs up
			}}
		}
	}
	o.stop()
	o.start()
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	grace.SetAnswer(486)
	ctx := callCtx(t)
	for _, number := range []string{"1002", "1003"} { // busy; not registered
		m := testphone.NewMedia(t)
		call, err := ada.DialFeature(ctx, number, m)
		if err != nil {
			t.Fatalf("call to %s: %v, want it answered by the PBX", number, err)
		}
		if who := waitFor(t, ran, "the no-answer feature"); who != "1001" {
			t.Errorf("no-answer feature ran for %q, want the caller 1001", who)
		}
		if calls := o.srv.ActiveCalls(); len(calls) != 1 || calls[0].Callee != number+"@acme.example" || calls[0].Answered.IsZero() {
			t.Errorf("calls while the feature runs: %+v", calls)
		}
		if err := call.Bye(ctx); err != nil {
			t.Fatalf("hang up: %v", err)
		}
		// The PBX ends its side after answering the BYE: the next call
		// must find the list empty again.
		for deadline := time.Now().Add(5 * time.Second); len(o.srv.ActiveCalls()) != 0; {
			if time.Now().After(deadline) {
				t.Fatalf("call to %s still listed after its BYE", number)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestNoAnswerTimesOutWith480(t *testing.T) {
	_, ada, grace := adaAndGrace(t, func(c *Config) { c.RingTimeout = time.Second })
	grace.SetAnswer(testphone.RingForever)
	ctx := callCtx(t)
	_, err := ada.Dial(ctx, "1002")
	if got := testphone.StatusOf(err); got != 480 {
		t.Fatalf("unanswered call: %d (%v), want 480", got, err)
	}
	in := waitFor(t, grace.Incoming, "INVITE at 1002")
	waitFor(t, in.Cancelled, "CANCEL at callee after ring timeout")
}

func TestAllPhonesOfAnExtensionRingAndLosersAreCancelled(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	desk, mobile := o.phone("1002"), o.phone("1002")
	ada.Register()
	desk.Register()
	mobile.Register()
	mobile.SetAnswer(testphone.RingForever)
	ctx := callCtx(t)
	// The desk phone answers a little after both ring.
	desk.SetAnswer(200)
	call, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, desk.Incoming, "INVITE at desk phone")
	in := waitFor(t, mobile.Incoming, "INVITE at mobile")
	waitFor(t, in.Cancelled, "CANCEL at the phone that lost")
	call.Bye(ctx)
	waitFor(t, desk.Byes, "BYE at the phone that answered")
}

func TestHoldAndResumeReachTheOtherPhone(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	ctx := callCtx(t)
	call, _ := adaCallsGrace(t, ctx, ada, grace)
	for _, step := range []struct{ offer, answer string }{{"sendonly", "recvonly"}, {"sendrecv", "sendrecv"}} {
		res, err := testphone.Reinvite(ctx, call, testphone.SDP(4000, step.offer))
		if err != nil {
			t.Fatalf("re-INVITE %s: %v", step.offer, err)
		}
		got := waitFor(t, grace.Reinvites, "re-INVITE at callee")
		if !testphone.HasLine(got.Body(), "a="+step.offer) {
			t.Fatalf("callee got re-INVITE body %q, want a=%s", got.Body(), step.offer)
		}
		if res.StatusCode != 200 || !testphone.HasLine(res.Body(), "a="+step.answer) {
			t.Fatalf("caller got %d %q, want 200 with a=%s", res.StatusCode, res.Body(), step.answer)
		}
	}
	call.Bye(ctx)
	waitFor(t, grace.Byes, "BYE at callee")
}

func TestInfoAndUpdateReachTheOtherPhone(t *testing.T) {
	_, ada, grace := adaAndGrace(t)
	ctx := callCtx(t)
	call, _ := adaCallsGrace(t, ctx, ada, grace)
	info := sip.NewRequest(sip.INFO, call.InviteResponse.Contact().Address)
	info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
	info.SetBody([]byte("Signal=7\r\nDuration=160\r\n"))
	res, err := call.Do(ctx, info)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("INFO: %v %v", res, err)
	}
	got := waitFor(t, grace.InDialog, "INFO at callee")
	if got.Method != sip.INFO || !strings.Contains(string(got.Body()), "Signal=7") {
		t.Fatalf("callee got %s %q, want the caller's INFO body", got.Method, got.Body())
	}
	upd := sip.NewRequest(sip.UPDATE, call.InviteResponse.Contact().Address)
	if res, err := call.Do(ctx, upd); err != nil || res.StatusCode != 200 {
		t.Fatalf("UPDATE: %v %v", res, err)
	}
	if got := waitFor(t, grace.InDialog, "UPDATE at callee"); got.Method != sip.UPDATE {
		t.Fatalf("callee got %s, want UPDATE", got.Method)
	}
	call.Bye(ctx)
	waitFor(t, grace.Byes, "BYE at callee")
}

func TestShutdownEndsCallsWithBye(t *testing.T) {
	o, ada, grace := adaAndGrace(t)
	ctx := callCtx(t)
	adaCallsGrace(t, ctx, ada, grace)
	if n := len(o.srv.ActiveCalls()); n != 1 {
		t.Fatalf("%d active calls, want 1", n)
	}
	o.stop()
	waitFor(t, ada.Byes, "BYE at caller on shutdown")
	waitFor(t, grace.Byes, "BYE at callee on shutdown")
}

func TestAdminHangupWhileRingingTellsCaller(t *testing.T) {
	o, ada, grace := adaAndGrace(t)
	grace.SetAnswer(testphone.RingForever)
	ctx := callCtx(t)
	done := make(chan error, 1)
	go func() { _, err := ada.Dial(ctx, "1002"); done <- err }()
	in := waitFor(t, grace.Incoming, "INVITE at 1002")
	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].Caller != "1001@acme.example" || calls[0].Callee != "1002@acme.example" || !calls[0].Answered.IsZero() {
		t.Fatalf("active calls = %+v, want one ringing 1001 -> 1002", calls)
	}
	if !o.srv.Hangup(ctx, calls[0].ID) {
		t.Fatal("Hangup found no call")
	}
	waitFor(t, in.Cancelled, "CANCEL at callee")
	if got := testphone.StatusOf(waitFor(t, done, "caller's final response")); got != 480 {
		t.Fatalf("caller got %d, want 480", got)
	}
}

func TestPhoneRegisteredOverTCPIsCalledOnItsConnection(t *testing.T) {
	o := newOffice(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	// Grace's phone registers over TCP: deskpbx must call it back on
	// that same connection (the phone may sit behind NAT).
	req := grace.RegisterRequest("<sip:1002@"+grace.Addr+";transport=tcp>", 600)
	req.SetTransport("TCP")
	res, err := grace.DoAuth(req, grace.Password)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register over TCP: %v %v", res, err)
	}
	bs := o.srv.Location().Lookup(mustExt(t, o, "1002"))
	if len(bs) != 1 || bs[0].Transport != "tcp" {
		t.Fatalf("bindings %+v, want one over tcp", bs)
	}
	ctx := callCtx(t)
	call, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("call to the TCP phone: %v", err)
	}
	in := waitFor(t, grace.Incoming, "INVITE at the TCP phone")
	// The phone listens on UDP only: a TCP INVITE can only have come over
	// the connection it opened to register.
	if in.Req.Transport() != "TCP" {
		t.Fatalf("INVITE came over %s, want TCP", in.Req.Transport())
	}
	call.Bye(ctx)
	waitFor(t, grace.Byes, "BYE at the TCP phone")
}
