package pbx

import (
	"context"
	"fmt"
	"testing"

	"github.com/emiago/sipgo"

	"deskpbx/internal/testphone"
)

// dialInBackground has caller dial number and returns where its outcome
// will arrive.
func dialInBackground(ctx context.Context, caller *testphone.Phone, m *testphone.Media, number string) <-chan *sipgo.DialogClientSession {
	out := make(chan *sipgo.DialogClientSession, 1)
	go func() {
		d, err := caller.DialFeature(ctx, number, m)
		if err != nil {
			d = nil
		}
		out <- d
	}()
	return out
}

// Ada (1001) sits at Bea's phone (2001, another tenant's); Grace calls
// 1001, which rings that seat; 1003 dials *81001 and gets the call, and
// the seat stops ringing.
func TestDirectedPickupOfACallRingingAtAHotDeskSeat(t *testing.T) {
	o, _ := hotdeskOffice(t)
	events := make(chan Handover, 4)
	o.stop()
	o.start(func(c *Config) { c.Handovers = func(_ context.Context, e Handover) { events <- e } })
	seat := testphone.New(t, o.srv.SIPAddr(), "2001", "beta.example", "pw-2001-x")
	adaHome, grace, picker := o.phone("1001"), o.phone("1002"), o.phone("1003")
	for _, p := range []*testphone.Phone{seat, adaHome, grace, picker} {
		p.Register()
	}
	seat.KeyIn(t, "*072", "5551234#4826#")
	seat.SetAnswer(testphone.RingForever)
	adaHome.SetAnswer(testphone.RingForever)

	ctx := callCtx(t)
	graceM, pickerM := testphone.NewMedia(t), testphone.NewMedia(t)
	graceCall := dialInBackground(ctx, grace, graceM, "1001")
	ringing := waitFor(t, seat.Incoming, "the call to 1001 ringing at the seat")

	pickup, err := picker.DialFeature(ctx, "*81001", pickerM)
	if err != nil {
		t.Fatalf("*81001: %v, want the ringing call", err)
	}
	waitFor(t, ringing.Cancelled, "CANCEL at the seat")
	call := waitFor(t, graceCall, "Grace's call answered")
	if call == nil {
		t.Fatal("Grace's call failed, want it answered by the pickup")
	}
	if adaHome.Calls() != 0 {
		t.Fatal("1001's own phone rang while Ada sat at 2001's")
	}
	// Each phone's answer is the other's offer: they send RTP to each
	// other.
	if !testphone.HasLine(call.InviteResponse.Body(), fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", pickerM.Port())) ||
		!testphone.HasLine(pickup.InviteResponse.Body(), fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", graceM.Port())) {
		t.Fatalf("Grace got %q and the picker %q, want each other's media", call.InviteResponse.Body(), pickup.InviteResponse.Body())
	}
	graceM.Answered(t, call.InviteResponse.Body())
	pickerM.Answered(t, pickup.InviteResponse.Body())
	talk(t, graceM, pickerM)

	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].Callee != "1001@acme.example" || calls[0].PickedUpBy != "1003@acme.example" {
		t.Fatalf("calls after the pickup: %+v, want Grace's call to 1001 picked up by 1003", calls)
	}
	if e := waitFor(t, events, "pickup event"); e.Kind != "pickup" || e.By.AOR() != "1003@acme.example" || e.To != "1001@acme.example" || !e.OK {
		t.Fatalf("event %+v, want a pickup by 1003 of 1001's call", e)
	}
	if err := pickup.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, grace.Byes, "BYE at Grace when the picker hangs up")
}

// *8 alone takes a call ringing for anyone of the tenant; with none
// ringing it gets 480, and *8 + an unknown extension 404.
func TestGroupPickupAndNothingToPickUp(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	for _, c := range []struct {
		number string
		want   int
	}{{"*8", 480}, {"*81002", 480}, {"*81999", 404}} {
		_, err := o.carol.DialFeature(ctx, c.number, o.carolM)
		if got := testphone.StatusOf(err); got != c.want {
			t.Errorf("%s with nothing ringing: %d (%v), want %d", c.number, got, err, c.want)
		}
	}

	o.grace.SetAnswer(testphone.RingForever)
	adaCall := dialInBackground(ctx, o.ada, o.adaM, "1002")
	ringing := waitFor(t, o.grace.Incoming, "the call to 1002 ringing")
	pickup, err := o.carol.DialFeature(ctx, "*8", o.carolM)
	if err != nil {
		t.Fatalf("*8: %v, want the call ringing at 1002", err)
	}
	waitFor(t, ringing.Cancelled, "CANCEL at 1002")
	call := waitFor(t, adaCall, "Ada's call answered")
	if call == nil {
		t.Fatal("Ada's call failed, want it answered by the pickup")
	}
	o.wantEvent(t, "pickup", "1003@acme.example", "1002@acme.example", true)
	if err := call.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.carol.Byes, "BYE at the picker when Ada hangs up")
	_ = pickup
}
