package pbx

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"deskpbx/internal/testphone"
)

// tally is a Metrics that keeps its counts for the test to read.
type tally struct {
	mu       sync.Mutex
	counts   map[string]int
	rtpSent  uint64
	rtpLate  uint64
	outcomes []string
}

func (t *tally) add(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[key]++
}

func (t *tally) SIPRequest(method string) { t.add("request " + method) }
func (t *tally) SIPResponse(method string, code int) {
	t.add(fmt.Sprintf("response %s %d", method, code))
}
func (t *tally) CallEnded(outcome string) { t.add("call " + outcome) }
func (t *tally) RTP(sent, late, lost uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rtpSent += sent
	t.rtpLate += late
}

func (t *tally) get(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[key]
}

// eventually is get once key has reached want, or after 5 s.
func (t *tally) eventually(key string, want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for t.get(key) != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	return t.get(key)
}

// observed restarts the office's server counting into a tally and
// sending every call's end to the returned channel.
func (o *office) observed() (*tally, chan CallEnd) {
	o.stop()
	m := &tally{}
	ends := make(chan CallEnd, 16)
	srv, err := New(Config{DB: o.db, Log: testLogger(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{30000, 30999}})
	if err != nil {
		o.t.Fatal(err)
	}
	srv.SetDialPlan(OfficeDialPlan(o.db, o.hotdesk))
	srv.SetMetrics(m)
	srv.OnCallEnded(func(e CallEnd) { ends <- e })
	if err := srv.Start(context.Background()); err != nil {
		o.t.Fatal(err)
	}
	o.srv = srv
	return m, ends
}

// Every call is counted once by how it ended, and a call to a person
// that nobody took reaches the listener as that person's missed call.
func TestCallsAreCountedByOutcomeAndMissedOnesNamed(t *testing.T) {
	o := newOffice(t)
	m, ends := o.observed()
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	// A response is counted as it leaves, which may be just after the
	// phone has read it.
	if got := m.eventually("response REGISTER 401", 2); got != 2 {
		t.Errorf("%d REGISTER challenges counted, want 2 (one per phone)", got)
	}
	if got, want := m.eventually("request REGISTER", 4), 4; got != want {
		t.Errorf("%d REGISTERs counted, want %d", got, want)
	}
	if got := m.eventually("response REGISTER 200", 2); got != 2 {
		t.Errorf("%d REGISTER 200s counted, want 2", got)
	}
	ctx := callCtx(t)

	call, _ := adaCallsGrace(t, ctx, ada, grace)
	call.Bye(ctx)
	end := waitFor(t, ends, "the answered call's end")
	if end.Outcome != OutcomeAnswered || end.Missed() || end.Callee.Number != "1002" || end.Identity.Number != "1001" {
		t.Errorf("answered call ended as %+v", end)
	}

	grace.SetAnswer(486)
	ada.Dial(ctx, "1002")
	waitFor(t, grace.Incoming, "busy INVITE at 1002")
	if end := waitFor(t, ends, "the busy call's end"); end.Outcome != OutcomeBusy || !end.Missed() || end.Callee.Number != "1002" {
		t.Errorf("busy call ended as %+v, want a missed call for 1002", end)
	}

	ada.Dial(ctx, "1003") // registered nowhere
	if end := waitFor(t, ends, "the unregistered callee's call"); end.Outcome != OutcomeNoAnswer || !end.Missed() || end.Callee.Number != "1003" {
		t.Errorf("call to an unregistered phone ended as %+v, want a missed call for 1003", end)
	}

	ada.Dial(ctx, "1999")
	if end := waitFor(t, ends, "the refused call"); end.Outcome != OutcomeFailed || end.Missed() {
		t.Errorf("call to an unknown number ended as %+v, want failed and no one's missed call", end)
	}

	grace.SetAnswer(testphone.RingForever)
	dctx, cancel := context.WithCancel(ctx)
	go ada.Dial(dctx, "1002")
	in := waitFor(t, grace.Incoming, "INVITE at 1002")
	cancel()
	waitFor(t, in.Cancelled, "CANCEL at callee")
	if end := waitFor(t, ends, "the cancelled call"); end.Outcome != OutcomeCancelled || !end.Missed() {
		t.Errorf("cancelled call ended as %+v, want a missed call", end)
	}

	for outcome, want := range map[string]int{"answered": 1, "busy": 1, "no_answer": 1, "failed": 1, "cancelled": 1} {
		if got := m.get("call " + outcome); got != want {
			t.Errorf("%d calls counted %s, want %d", got, outcome, want)
		}
	}
	for _, key := range []string{"request INVITE", "response INVITE 407", "response INVITE 200", "response INVITE 486",
		"response INVITE 404", "request ACK", "request BYE", "response BYE 200"} {
		if m.get(key) == 0 {
			t.Errorf("no %q counted", key)
		}
	}
}

// The media a feature call of ours sends is counted when it ends.
func TestFeatureCallCountsItsRTP(t *testing.T) {
	o := newOffice(t)
	m, ends := o.observed()
	_, call, media, ctx := adaDialsFeature(t, o, "*43")
	deadline := time.Now().Add(10 * time.Second)
	for len(media.Received()) < 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	call.Bye(ctx)
	if end := waitFor(t, ends, "the echo test's end"); end.Outcome != OutcomeAnswered || end.Callee != nil {
		t.Errorf("echo test ended as %+v", end)
	}
	m.mu.Lock()
	sent := m.rtpSent
	m.mu.Unlock()
	if got := uint64(len(media.Received())); sent < got || got < 10 {
		t.Errorf("%d RTP packets counted sent, phone received %d", sent, got)
	}
}

// Ada sits at the phone of 1003, which is busy: Grace's call to Ada is
// Ada's missed call, not the phone's.
func TestAHotDeskersMissedCallIsTheirs(t *testing.T) {
	o, hd := hotdeskOffice(t)
	_, ends := o.observed()
	grace, desk := o.phone("1002"), o.phone("1003")
	grace.Register()
	desk.Register()
	seat, err := o.db.LookupExtension(context.Background(), "acme.example", "1003")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hd.Login(context.Background(), "5551234", "4826", seat, "test"); err != nil {
		t.Fatal(err)
	}
	desk.SetAnswer(486)
	if _, err := grace.Dial(callCtx(t), "1001"); testphone.StatusOf(err) != 486 {
		t.Fatalf("call to Ada at the busy desk: %v, want 486", err)
	}
	waitFor(t, desk.Incoming, "INVITE at Ada's desk")
	end := waitFor(t, ends, "the call's end")
	if !end.Missed() || end.Callee.Number != "1001" || end.Identity.Number != "1002" {
		t.Errorf("call ended as %+v, want Ada's missed call from Grace", end)
	}
}
