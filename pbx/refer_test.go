package pbx

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"deskpbx/internal/rtppcap"
	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// transferOffice is an office where Ada (1001), Grace (1002) and 1003
// (Carol here) are registered, each phone with media of its own, and
// where every transfer and pickup event is kept.
type transferOffice struct {
	*office
	ada, grace, carol    *testphone.Phone
	adaM, graceM, carolM *testphone.Media
	events               chan Handover
}

func newTransferOffice(t *testing.T, amend ...func(*Route)) *transferOffice {
	t.Helper()
	events := make(chan Handover, 16)
	withEvents := func(c *Config) {
		c.Handovers = func(_ context.Context, e Handover) { events <- e }
	}
	o := newOffice(t, withEvents)
	if len(amend) > 0 {
		o.amend = amend[0]
		o.stop()
		o.start(withEvents)
	}
	return withPhones(t, o, events)
}

// withPhones registers Ada's, Grace's and Carol's phones, each with its
// media, at o, whose transfers are reported to events.
func withPhones(t *testing.T, o *office, events chan Handover) *transferOffice {
	t.Helper()
	to := &transferOffice{office: o, events: events,
		ada: o.phone("1001"), grace: o.phone("1002"), carol: o.phone("1003"),
		adaM: testphone.NewMedia(t), graceM: testphone.NewMedia(t), carolM: testphone.NewMedia(t)}
	for _, pm := range []struct {
		p *testphone.Phone
		m *testphone.Media
	}{{to.ada, to.adaM}, {to.grace, to.graceM}, {to.carol, to.carolM}} {
		pm.p.UseMedia(pm.m)
		pm.p.Register()
	}
	return to
}

// call has caller dial number and the phone callee answer; it returns
// both ends once the callee has the PBX's ACK.
func (o *transferOffice) call(t *testing.T, ctx context.Context, caller *testphone.Phone, m *testphone.Media, number string, callee *testphone.Phone) (*sipgo.DialogClientSession, *testphone.IncomingCall) {
	t.Helper()
	d, err := caller.DialFeature(ctx, number, m)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.User, number, err)
	}
	in := waitFor(t, callee.Incoming, "INVITE at "+callee.User)
	waitFor(t, callee.Acks, "ACK at "+callee.User)
	return d, in
}

// sipfrags reads the transfer NOTIFYs at p up to the one that ends the
// subscription (or n of them, if n > 0), and returns their status lines.
func sipfrags(t *testing.T, p *testphone.Phone, n ...int) []string {
	t.Helper()
	var got []string
	for {
		notify := waitFor(t, p.Notifies, "NOTIFY at transferor "+p.User)
		if ev := notify.GetHeader("Event"); ev == nil || ev.Value() != "refer" {
			t.Fatalf("NOTIFY with Event %v, want refer", ev)
		}
		if ct := notify.ContentType(); ct == nil || ct.Value() != "message/sipfrag;version=2.0" {
			t.Fatalf("NOTIFY with Content-Type %v, want message/sipfrag;version=2.0", ct)
		}
		status, final := testphone.Sipfrag(notify)
		got = append(got, status)
		if final || len(n) > 0 && len(got) == n[0] {
			return got
		}
	}
}

// ringsThenAnswers has the transfer target (which rings until told)
// answer once the transferor has heard it ring: a phone that answers
// at once may have its 180 overtaken by its 200 (sipgo handles each
// datagram on its own goroutine), and then no 180 is reported.
// The target is shown the party transferred to it, wantFrom.
func (o *transferOffice) ringsThenAnswers(t *testing.T, transferor *testphone.Phone, wantFrom string) []string {
	t.Helper()
	in := waitFor(t, o.carol.Incoming, "INVITE at the transfer target")
	if from := in.Req.From(); from.Address.User != wantFrom {
		t.Fatalf("target sees <%s>, want the party transferred to it <%s>", from.Address.User, wantFrom)
	}
	frags := sipfrags(t, transferor, 2)
	in.AnswerWith(testphone.SDP(o.carolM.Port(), "sendrecv"))
	return append(frags, sipfrags(t, transferor)...)
}

func wantFrags(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("transferor was told %q, want %q", got, want)
	}
}

// talk sends 25 packets (half a second of audio) each way between two
// phones whose media point at each other, and waits for both to get
// them all.
func talk(t *testing.T, x, y *testphone.Media) {
	t.Helper()
	pkts := halfASecond()
	xGot, yGot := len(x.Received()), len(y.Received())
	done := make(chan struct{})
	go func() { x.Play(pkts); close(done) }()
	y.Play(pkts)
	<-done
	deadline := time.Now().Add(5 * time.Second)
	for len(x.Received())-xGot < len(pkts) || len(y.Received())-yGot < len(pkts) {
		if time.Now().After(deadline) {
			t.Fatalf("RTP got through %d and %d of %d packets, want all both ways", len(y.Received())-yGot, len(x.Received())-xGot, len(pkts))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// halfASecond is 25 µ-law packets of silence, 20 ms apart.
func halfASecond() []rtppcap.Packet {
	pkts := make([]rtppcap.Packet, 25)
	for i := range pkts {
		pkts[i] = rtppcap.Packet{At: time.Duration(i) * rtppcap.Ptime, Packet: rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(160 * i), SSRC: 0x1234},
			Payload: make([]byte, 160)}}
	}
	return pkts
}

func (o *transferOffice) wantEvent(t *testing.T, kind, by, to string, ok bool) Handover {
	t.Helper()
	e := waitFor(t, o.events, kind+" event")
	if e.Kind != kind || e.By.AOR() != by || e.To != to || e.OK != ok {
		t.Fatalf("event %+v, want %s by %s to %s ok=%v", e, kind, by, to, ok)
	}
	return e
}

func (o *transferOffice) wantTransferListed(t *testing.T, by, to string) {
	t.Helper()
	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].TransferredBy != by || calls[0].TransferredTo != to {
		t.Fatalf("calls after the transfer: %+v, want one transferred by %s to %s", calls, by, to)
	}
}

// Grace takes Ada's call and blind-transfers her to 1003: Carol's phone
// rings showing Ada, Ada is re-INVITEd to Carol's media, Grace hears the
// progress and is hung up, and Ada and Carol talk.
func TestBlindTransferByTheCallee(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	o.carol.SetAnswer(testphone.RingForever)
	res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:1003@acme.example>")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	wantFrags(t, o.ringsThenAnswers(t, o.grace, "1001"), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK")
	reinvite := waitFor(t, o.ada.Reinvites, "re-INVITE at the remaining party")
	carolAck := waitFor(t, o.carol.Acks, "ACK at the target")
	waitFor(t, o.grace.Byes, "BYE at the transferor")

	o.adaM.Answered(t, reinvite.Body()) // Carol's media, from her 200
	o.carolM.Answered(t, carolAck.Body())
	if !testphone.HasLine(reinvite.Body(), fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", o.carolM.Port())) {
		t.Fatalf("Ada was re-INVITEd with %q, want Carol's SDP", reinvite.Body())
	}
	talk(t, o.adaM, o.carolM)
	o.wantTransferListed(t, "1002@acme.example", "1003@acme.example")
	o.wantEvent(t, "transfer-blind", "1002@acme.example", "1003@acme.example", true)

	if err := adaCall.Bye(ctx); err != nil {
		t.Fatalf("Ada hangs up: %v", err)
	}
	waitFor(t, o.carol.Byes, "BYE at the target when Ada hangs up")
}

// The caller transfers: Ada calls Grace and sends her on to 1003.
func TestBlindTransferByTheCaller(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	o.carol.SetAnswer(testphone.RingForever)
	res, err := testphone.Refer(ctx, adaCall, "<sip:1003@127.0.0.1>")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	wantFrags(t, o.ringsThenAnswers(t, o.ada, "1002"), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK")
	reinvite := waitFor(t, o.grace.Reinvites, "re-INVITE at the remaining party")
	carolAck := waitFor(t, o.carol.Acks, "ACK at the target")
	waitFor(t, o.ada.Byes, "BYE at the transferor")
	o.graceM.Answered(t, reinvite.Body())
	o.carolM.Answered(t, carolAck.Body())
	talk(t, o.graceM, o.carolM)
	o.wantTransferListed(t, "1001@acme.example", "1003@acme.example")
	o.wantEvent(t, "transfer-blind", "1001@acme.example", "1003@acme.example", true)

	if err := graceIn.Dialog.Bye(ctx); err != nil {
		t.Fatalf("Grace hangs up: %v", err)
	}
	waitFor(t, o.carol.Byes, "BYE at the target when Grace hangs up")
}

// A busy target fails the transfer: the transferor is told, and the
// call it tried to transfer goes on.
func TestBlindTransferToABusyPhoneKeepsTheCall(t *testing.T) {
	o := newTransferOffice(t)
	o.carol.SetAnswer(486)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	if res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:1003@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	frags := sipfrags(t, o.grace)
	if last := frags[len(frags)-1]; last != "SIP/2.0 486 Busy Here" {
		t.Fatalf("transferor was told %q, want it to end with 486 Busy Here", frags)
	}
	if e := o.wantEvent(t, "transfer-blind", "1002@acme.example", "1003@acme.example", false); e.Status != "486" {
		t.Fatalf("failed transfer event has status %q, want 486", e.Status)
	}
	o.wantCallKept(t, ctx, adaCall, graceIn)
}

// wantCallKept checks that Ada's call with Grace is as it was after a
// transfer failed: listed, not transferred, Ada and Grace talking, and
// Ada's hang-up reaching Grace.
func (o *transferOffice) wantCallKept(t *testing.T, ctx context.Context, adaCall *sipgo.DialogClientSession, graceIn *testphone.IncomingCall) {
	t.Helper()
	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].TransferredTo != "" {
		t.Fatalf("calls after a failed transfer: %+v, want the original call only", calls)
	}
	// Still pointed at each other by the call's own offer and answer.
	o.adaM.Answered(t, adaCall.InviteResponse.Body())
	o.graceM.Answered(t, graceIn.Req.Body())
	talk(t, o.adaM, o.graceM)
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.grace.Byes, "BYE at Grace: the call was still hers")
}

// Grace has Ada on one call and consults Carol on another, then joins
// them (REFER with Replaces): deskpbx re-INVITEs Ada and Carol to each
// other and hangs up both of Grace's legs.
func TestAttendedTransferJoinsBothCalls(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	consult, _ := o.call(t, ctx, o.grace, o.graceM, "1003", o.carol)
	if n := len(o.srv.ActiveCalls()); n != 2 {
		t.Fatalf("%d calls before the transfer, want 2", n)
	}

	res, err := testphone.Refer(ctx, graceIn.Dialog, testphone.ReplacesOf("1003", "acme.example", consult))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER with Replaces: %v %v, want 202", res, err)
	}
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	adaRe := waitFor(t, o.ada.Reinvites, "re-INVITE at Ada")
	carolRe := waitFor(t, o.carol.Reinvites, "re-INVITE at Carol")
	if len(adaRe.Body()) != 0 {
		t.Fatalf("Ada's re-INVITE offered %q, want none (her own offer is asked for)", adaRe.Body())
	}
	if !testphone.HasLine(carolRe.Body(), fmt.Sprintf("m=audio %d RTP/AVP 0 8 101", o.adaM.Port())) {
		t.Fatalf("Carol was re-INVITEd with %q, want Ada's offer", carolRe.Body())
	}
	adaAck := waitFor(t, o.ada.Acks, "ACK with Carol's answer at Ada")
	waitFor(t, o.grace.Byes, "BYE at Grace")
	waitFor(t, o.grace.Byes, "BYE at Grace's other leg")
	o.adaM.Answered(t, adaAck.Body())
	o.carolM.Answered(t, carolRe.Body()) // Ada's offer, with her address
	talk(t, o.adaM, o.carolM)
	o.wantEvent(t, "transfer-attended", "1002@acme.example", "1003@acme.example", true)
	o.wantTransferListed(t, "1002@acme.example", "1003@acme.example")

	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.carol.Byes, "BYE at Carol when Ada hangs up")
}

// Each bad REFER gets its answer, and the call it came in goes on.
func TestBadRefersAreRefusedAndTheCallGoesOn(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	if _, err := o.db.CreateTenant(ctx, "beta.example", "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "beta.example", Number: "2001", Password: "pw-2001-x"}); err != nil {
		t.Fatal(err)
	}
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	outside := sip.NewRequest(sip.REFER, o.ada.URI("1002"))
	outside.AppendHeader(sip.NewHeader("Refer-To", "<sip:1003@acme.example>"))
	if res := o.ada.Send(outside); res.StatusCode != 481 {
		t.Errorf("REFER outside a dialog: %d, want 481", res.StatusCode)
	}
	for _, c := range []struct {
		what, referTo string
		want          int
	}{
		{"without Refer-To", "", 400},
		{"to another tenant's extension", "<sip:2001@beta.example>", 403},
		{"to a number the transferor's tenant does not have", "<sip:2001@acme.example>", 403},
		{"with a Replaces naming no call", "<sip:1003@acme.example?Replaces=nosuchcall%3Bto-tag%3Dx%3Bfrom-tag%3Dy>", 481},
	} {
		res, err := testphone.Refer(ctx, graceIn.Dialog, c.referTo)
		if err != nil || res.StatusCode != c.want {
			t.Errorf("REFER %s: %v %v, want %d", c.what, res, err, c.want)
		}
	}
	if o.carol.Calls() != 0 {
		t.Fatal("a refused REFER rang the target")
	}
	select {
	case n := <-o.grace.Notifies:
		t.Fatalf("a refused REFER was followed by a NOTIFY %q", n.Body())
	case r := <-o.ada.Reinvites:
		t.Fatalf("a refused REFER re-INVITEd the other party: %q", r.Body())
	default:
	}
	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].Answered.IsZero() || calls[0].TransferredTo != "" {
		t.Fatalf("calls after refused REFERs: %+v, want the original call", calls)
	}
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.grace.Byes, "BYE at Grace: the call was untouched")
}

// A transfer to a phone that is busy goes where a direct call to it
// would: here the route's no-answer feature (voicemail's slot), which
// answers the transferred party with our own media.
func TestBlindTransferToABusyPhoneGoesToTheNoAnswerFeature(t *testing.T) {
	ran := make(chan string, 1)
	o := newTransferOffice(t, func(r *Route) {
		if r.Ring != nil {
			r.Ring.NoAnswer = &FeatureRoute{Name: "after-ring", Run: func(ctx context.Context, fc *FeatureCall) {
				ran <- fc.Identity.Number
				fc.Echo(ctx)
			}}
		}
	})
	o.carol.SetAnswer(486)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	if res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:1003@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	if frags := sipfrags(t, o.grace); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Fatalf("transferor was told %q, want the transfer done (200 OK)", frags)
	}
	waitFor(t, o.grace.Byes, "BYE at the transferor")
	if who := waitFor(t, ran, "the no-answer feature"); who != "1001" {
		t.Fatalf("no-answer feature ran for %s, want the transferred party 1001", who)
	}
	if re := waitFor(t, o.ada.Reinvites, "re-INVITE at Ada"); len(re.Body()) != 0 {
		t.Fatalf("Ada was re-INVITEd with an offer %q, want to be asked for hers", re.Body())
	}
	// Our answer is in the ACK; the feature echoes what Ada sends.
	o.adaM.Answered(t, waitFor(t, o.ada.Acks, "ACK with our answer at Ada").Body())
	before := len(o.adaM.Received())
	o.adaM.Play(halfASecond())
	deadline := time.Now().Add(5 * time.Second)
	for len(o.adaM.Received())-before < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("Ada heard %d packets back from the no-answer feature, want her audio echoed", len(o.adaM.Received())-before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	o.wantTransferListed(t, "1002@acme.example", "1003@acme.example")
	o.wantEvent(t, "transfer-blind", "1002@acme.example", "1003@acme.example", true)
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
}

// Many phones hang up as soon as a blind transfer is accepted: the
// transfer goes on without the transferor, and the others talk.
func TestTransferorHangsUpWhileTheTargetRings(t *testing.T) {
	o := newTransferOffice(t)
	o.carol.SetAnswer(testphone.RingForever)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	if res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:1003@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	carolIn := waitFor(t, o.carol.Incoming, "INVITE at the transfer target")
	if err := graceIn.Dialog.Bye(ctx); err != nil {
		t.Fatalf("transferor hangs up: %v", err)
	}
	if calls := o.srv.ActiveCalls(); len(calls) != 1 {
		t.Fatalf("calls after the transferor hung up: %+v, want Ada's, still transferring", calls)
	}
	carolIn.AnswerWith(testphone.SDP(o.carolM.Port(), "sendrecv"))
	reinvite := waitFor(t, o.ada.Reinvites, "re-INVITE at Ada")
	o.adaM.Answered(t, reinvite.Body())
	o.carolM.Answered(t, waitFor(t, o.carol.Acks, "ACK at the target").Body())
	talk(t, o.adaM, o.carolM)
	o.wantEvent(t, "transfer-blind", "1002@acme.example", "1003@acme.example", true)
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.carol.Byes, "BYE at the target when Ada hangs up")
}

// A Replaces can only name the transferor's own other call: Call-IDs and
// tags are no secret, and must not let one phone take over two others'.
func TestReplacesNamingSomeoneElsesCallIsRefused(t *testing.T) {
	o := newTransferOffice(t)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	carolCall, _ := o.call(t, ctx, o.carol, o.carolM, "1001", o.ada) // Grace is not in it

	res, err := testphone.Refer(ctx, graceIn.Dialog, testphone.ReplacesOf("1001", "acme.example", carolCall))
	if err != nil || res.StatusCode != 481 {
		t.Fatalf("REFER with Replaces naming another phone's call: %v %v, want 481", res, err)
	}
	select {
	case r := <-o.ada.Reinvites:
		t.Fatalf("a refused REFER re-INVITEd Ada: %q", r.Body())
	case r := <-o.carol.Reinvites:
		t.Fatalf("a refused REFER re-INVITEd Carol: %q", r.Body())
	default:
	}
	calls := o.srv.ActiveCalls()
	if len(calls) != 2 || calls[0].TransferredTo != "" || calls[1].TransferredTo != "" {
		t.Fatalf("calls after the refused REFER: %+v, want both untouched", calls)
	}
	for _, d := range []*sipgo.DialogClientSession{adaCall, carolCall} {
		if err := d.Bye(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, o.grace.Byes, "BYE at Grace: her call was untouched")
	waitFor(t, o.ada.Byes, "BYE at Ada: Carol's call was untouched")
}

// A receptionist transfers while the consultation call still rings
// ("semi-attended"): the REFER's Replaces names that early dialog, and
// the caller is joined to the target once it answers.
func TestAttendedTransferWhileTheTargetRings(t *testing.T) {
	o := newTransferOffice(t)
	o.carol.SetAnswer(testphone.RingForever)
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	// Grace dials 1003 and learns the early dialog from its 180.
	referTo, answered := dialRinging(t, ctx, o.grace, o.graceM, "1003")
	carolIn := waitFor(t, o.carol.Incoming, "the consultation ringing at Carol")

	res, err := testphone.Refer(ctx, graceIn.Dialog, referTo)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER naming the ringing call: %v %v, want 202", res, err)
	}
	wantFrags(t, sipfrags(t, o.grace, 2), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing")
	carolIn.AnswerWith(testphone.SDP(o.carolM.Port(), "sendrecv"))
	if err := waitFor(t, answered, "Grace's consultation answered"); err != nil {
		t.Fatalf("consultation call: %v", err)
	}
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 200 OK")
	waitFor(t, o.ada.Reinvites, "re-INVITE at Ada")
	carolRe := waitFor(t, o.carol.Reinvites, "re-INVITE at Carol")
	o.adaM.Answered(t, waitFor(t, o.ada.Acks, "ACK with Carol's answer at Ada").Body())
	o.carolM.Answered(t, carolRe.Body())
	talk(t, o.adaM, o.carolM)
	o.wantEvent(t, "transfer-attended", "1002@acme.example", "1003@acme.example", true)
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.carol.Byes, "BYE at Carol when Ada hangs up")
}

// dialRinging has p call number with media m, and once the call rings
// (its 180 came) returns the Refer-To of an attended transfer naming
// that early dialog, and where the call's outcome will come (nil once
// answered and ACKed).
func dialRinging(t *testing.T, ctx context.Context, p *testphone.Phone, m *testphone.Media, number string) (referTo string, answered <-chan error) {
	t.Helper()
	req := p.InviteRequest(number, "", testphone.SDP(m.Port(), "sendrecv"))
	consult, err := p.DUA.WriteInvite(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ringing := make(chan *sip.Response, 4)
	done := make(chan error, 1)
	go func() {
		err := consult.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.User, Password: p.Password,
			OnResponse: func(res *sip.Response) error {
				if res.StatusCode == 180 {
					ringing <- res
				}
				return nil
			}})
		if err == nil {
			err = consult.Ack(ctx)
		}
		done <- err
	}()
	ring := waitFor(t, ringing, "180 for "+p.User+"'s consultation call")
	pbxTag, _ := ring.To().Params.Get("tag")
	fromTag, _ := req.From().Params.Get("tag")
	replaces := ring.CallID().Value() + ";to-tag=" + pbxTag + ";from-tag=" + fromTag
	return "<sip:" + number + "@" + p.Domain + "?Replaces=" + strings.NewReplacer(";", "%3B", "=", "%3D", "@", "%40").Replace(replaces) + ">", done
}
