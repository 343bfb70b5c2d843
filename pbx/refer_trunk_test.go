package pbx

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// outsideCall is a call deskpbx placed to the provider, ringing (180
// sent) until the test answers or refuses it: the outside world's phone.
type outsideCall struct {
	Req       *sip.Request
	Dialog    *sipgo.DialogServerSession
	Cancelled chan struct{} // closed when deskpbx gives up while it rings
	answer    chan outsideAnswer
}

type outsideAnswer struct {
	code int
	sdp  []byte
}

// ringOutside makes the provider's new calls ring until the test
// decides, each sent to the returned channel.
func (p *provider) ringOutside() <-chan *outsideCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outside = make(chan *outsideCall, 4)
	return p.outside
}

// ringsOutside takes a new call from deskpbx when ringOutside was
// called; false leaves it to the provider's answer-at-once default.
func (p *provider) ringsOutside(req *sip.Request, tx sip.ServerTransaction) bool {
	p.mu.Lock()
	calls := p.outside
	p.mu.Unlock()
	if calls == nil || req.To().Params.Has("tag") {
		return false
	}
	d, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad", nil))
		return true
	}
	p.mu.Lock()
	p.in[d.ID] = d
	p.offers = append(p.offers, string(req.Body()))
	p.mu.Unlock()
	d.Respond(180, "Ringing", nil)
	oc := &outsideCall{Req: req, Dialog: d, Cancelled: make(chan struct{}), answer: make(chan outsideAnswer, 1)}
	calls <- oc
	select {
	case <-d.Context().Done():
		close(oc.Cancelled)
	case a := <-oc.answer:
		if a.code == 200 {
			d.RespondSDP(a.sdp)
		} else {
			d.Respond(a.code, reasonPhrase(a.code), nil)
		}
	}
	return true
}

func (p *provider) inCall(req *sip.Request) *sipgo.DialogServerSession {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.in[id]
}

// answersAt makes the provider's answers to re-INVITEs (of a customer's
// call, or of a mobile it took) give m's address.
func (p *provider) answersAt(m *testphone.Media) {
	p.mu.Lock()
	p.rtpHost, p.rtpPort = "127.0.0.1", m.Port()
	p.mu.Unlock()
}

// answerWith picks up the outside phone, its media at m.
func (oc *outsideCall) answerWith(m *testphone.Media) {
	oc.answer <- outsideAnswer{code: 200, sdp: testphone.SDP(m.Port(), "sendrecv")}
}

func (oc *outsideCall) refuse(code int) { oc.answer <- outsideAnswer{code: code} }

// outsideTransferOffice is a transfer office with a trunk to a provider
// whose calls ring until the test answers them (or to trunkHost, if not
// ""), Ada's DID +15550101, Grace's outside caller ID +15550102, and
// every call end and lamp kept; it returns once the trunk's state is
// known.
type outsideTransferOffice struct {
	*transferOffice
	prov    *provider
	outside <-chan *outsideCall
	ends    chan CallEnd
	lamps   *lampLog
}

func newOutsideTransferOffice(t *testing.T, trunkHost string, tweak ...func(*Config)) *outsideTransferOffice {
	t.Helper()
	o := newOffice(t)
	x := &outsideTransferOffice{prov: newProvider(t), ends: make(chan CallEnd, 16), lamps: &lampLog{}}
	x.outside = x.prov.ringOutside()
	if trunkHost == "" {
		trunkHost = x.prov.addr
	}
	ctx := context.Background()
	if _, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: trunkHost}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateDID(ctx, "acme.example", "+15550101", "1001"); err != nil {
		t.Fatal(err)
	}
	cid := "+15550102"
	if _, err := o.db.SetExtensionOutside(ctx, "acme.example", "1002", store.ExtensionOutsideSettings{OutsideCID: &cid}); err != nil {
		t.Fatal(err)
	}
	events := make(chan Handover, 16)
	o.stop()
	o.wire = func(s *Server) {
		s.OnCallEnded(func(e CallEnd) { x.ends <- e })
		s.SetCallObserver(x.lamps)
	}
	o.start(append(tweak, func(c *Config) { c.Handovers = func(_ context.Context, e Handover) { events <- e } })...)
	x.transferOffice = withPhones(t, o, events)
	// Loaded and checked with OPTIONS: our provider answers them, any
	// other host is a line that is down.
	if trunkHost == x.prov.addr {
		waitTrunkState(t, o.srv, store.TrunkReachable)
	} else {
		waitTrunkState(t, o.srv, store.TrunkFailing)
	}
	return x
}

// referOut has a phone transfer its call to an outside number, and
// returns the call that reaches the provider, checked to ask for number
// with caller ID cid in From and P-Asserted-Identity.
func (o *outsideTransferOffice) referOut(t *testing.T, ctx context.Context, call testphone.Call, number, cid string) *outsideCall {
	t.Helper()
	res, err := testphone.Refer(ctx, call, "<sip:"+number+"@acme.example>")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER to %s, an outside number the transferor may call: %v %v, want 202", number, res, err)
	}
	out := waitFor(t, o.outside, "the transfer's call at the provider")
	if got := out.Req.Recipient.User; got != number {
		t.Errorf("the provider was asked to call %q, want %s", got, number)
	}
	if got := out.Req.From().Address.User; got != cid {
		t.Errorf("the provider was called from %q, want the transferor's outside caller ID %s", got, cid)
	}
	if pai := out.Req.GetHeader("P-Asserted-Identity"); pai == nil || !strings.Contains(pai.Value(), cid+"@") {
		t.Errorf("P-Asserted-Identity %v, want the transferor's outside caller ID %s", pai, cid)
	}
	return out
}

// portsFreed waits until every RTP port is back (relays closed).
func portsFreed(t *testing.T, srv *Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for srv.ports.InUse() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := srv.ports.InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use after the call ended", n)
	}
	if calls := srv.ActiveCalls(); len(calls) != 0 {
		t.Fatalf("calls still listed after the call ended: %+v", calls)
	}
}

// talkThroughUs checks that each of two parties was given SDP (got)
// pointing at deskpbx, at neither the other's media nor any of notEither
// (a transferor's), and has them talk: RTP both ways through the relay.
func talkThroughUs(t *testing.T, xM *testphone.Media, xGot []byte, yM *testphone.Media, yGot []byte, notEither ...int) {
	t.Helper()
	for _, p := range []struct {
		got   []byte
		other int
	}{{xGot, yM.Port()}, {yGot, xM.Port()}} {
		if !pointsAtUs(p.got, append([]int{p.other}, notEither...)...) {
			t.Fatalf("a party of the joined call was given\n%s\nwant deskpbx's relay, not the other party or the transferor", p.got)
		}
	}
	xM.Answered(t, xGot)
	yM.Answered(t, yGot)
	talk(t, xM, yM)
}

// customerCallsAda has a customer, with media at m, call Ada's number
// through the provider; it returns the customer's call and Ada's, once
// she answered.
func (o *outsideTransferOffice) customerCallsAda(t *testing.T, ctx context.Context, m *testphone.Media) (*sipgo.DialogClientSession, *testphone.IncomingCall) {
	t.Helper()
	o.prov.answersAt(m)
	customer, err := o.prov.callIn(ctx, o.srv.SIPAddr(), "+15550101", "+15557777", m.Port())
	if err != nil {
		t.Fatalf("the customer's call: %v", err)
	}
	adaIn := waitFor(t, o.ada.Incoming, "the customer's call at Ada")
	waitFor(t, o.ada.Acks, "ACK at Ada")
	return customer, adaIn
}

// pointsAtUs says whether an SDP body sends media to deskpbx: not to
// the port of any of the test's media, which deskpbx must not reveal.
func pointsAtUs(body []byte, notPorts ...int) bool {
	port := audioPort(string(body))
	for _, p := range notPorts {
		if port == p {
			return false
		}
	}
	return port != 0 && strings.Contains(string(body), "c=IN IP4 127.0.0.1")
}

// Grace took Ada's call and blind-transfers her to a mobile number:
// deskpbx calls it through the trunk with Grace's outside caller ID,
// Grace hears it ring and answer, and is hung up; Ada and the mobile
// talk through deskpbx's relay. When the mobile hangs up, Ada gets BYE,
// the relay's ports are freed, the call is logged and the lamps go off.
func TestBlindTransferOfAColleagueToAnOutsideNumber(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	mobileM := testphone.NewMedia(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	mobile := o.referOut(t, ctx, graceIn.Dialog, "5557001", "+15550102") // Grace's outside caller ID
	if !pointsAtUs(mobile.Req.Body(), o.adaM.Port(), o.graceM.Port()) {
		t.Fatalf("the provider was offered\n%s\nwant deskpbx's relay, not a phone", mobile.Req.Body())
	}
	wantFrags(t, sipfrags(t, o.grace, 2), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing")
	mobile.answerWith(mobileM)
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 200 OK")
	reinvite := waitFor(t, o.ada.Reinvites, "re-INVITE at Ada")
	waitFor(t, o.grace.Byes, "BYE at the transferor")
	graceID, _ := strconv.ParseInt(o.extID("1002"), 10, 64)
	if got := o.lamps.states(adaCall.InviteRequest.CallID().Value(), graceID); fmt.Sprint(got) != fmt.Sprint([]CallState{CallEarly, CallConfirmed, CallTerminated}) {
		t.Errorf("Grace's lamp went %v once she was hung up, want it off at once", got)
	}

	talkThroughUs(t, o.adaM, reinvite.Body(), mobileM, mobile.Req.Body(), o.graceM.Port())
	o.wantTransferListed(t, "1002@acme.example", "5557001@127.0.0.2")
	o.wantEvent(t, "transfer-blind", "1002@acme.example", "5557001@127.0.0.2", true)

	if err := mobile.Dialog.Bye(ctx); err != nil {
		t.Fatalf("the mobile hangs up: %v", err)
	}
	waitFor(t, o.ada.Byes, "BYE at Ada when the mobile hangs up")
	end := waitFor(t, o.ends, "the call's end")
	if end.Outcome != OutcomeAnswered || end.Identity.Number != "1001" || end.Callee.Number != "1002" || end.Answered.IsZero() {
		t.Errorf("call ended as %+v, want Ada's answered call to Grace", end)
	}
	portsFreed(t, o.srv)
	// Grace's lamp went off when she was hung up (checked there), and
	// nothing more; Ada's when the call ended.
	lifecycle := fmt.Sprint([]CallState{CallEarly, CallConfirmed, CallTerminated})
	for _, who := range []*store.Extension{end.Identity, end.Callee} {
		if got := o.lamps.states(adaCall.InviteRequest.CallID().Value(), who.ID); fmt.Sprint(got) != lifecycle {
			t.Errorf("%s's lamp went %v, want %s", who.AOR(), got, lifecycle)
		}
	}
}

// A customer who called Ada's number is sent on by Ada to a mobile: the
// customer's call is re-INVITEd to a new relay, the mobile is called
// out through the trunk, the two talk through deskpbx, and when the
// customer hangs up the mobile gets BYE.
func TestBlindTransferOfACustomerToAnOutsideNumber(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	customerM, mobileM := testphone.NewMedia(t), testphone.NewMedia(t)
	customer, adaIn := o.customerCallsAda(t, ctx, customerM)

	mobile := o.referOut(t, ctx, adaIn.Dialog, "5557002", "+15550101") // Ada's DID: her outside caller ID
	if !pointsAtUs(mobile.Req.Body(), customerM.Port(), o.adaM.Port()) {
		t.Fatalf("the mobile was offered\n%s\nwant deskpbx's relay", mobile.Req.Body())
	}
	wantFrags(t, sipfrags(t, o.ada, 2), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing")
	mobile.answerWith(mobileM)
	wantFrags(t, sipfrags(t, o.ada), "SIP/2.0 200 OK")
	waitFor(t, o.ada.Byes, "BYE at the transferor")
	// offers: the customer's call is not one of them (the provider placed
	// it); the mobile's INVITE, then the re-INVITE of the customer.
	talkThroughUs(t, customerM, []byte(o.prov.offer(1)), mobileM, mobile.Req.Body(), o.adaM.Port())
	o.wantEvent(t, "transfer-blind", "1001@acme.example", "5557002@127.0.0.2", true)

	if err := customer.Bye(ctx); err != nil {
		t.Fatalf("the customer hangs up: %v", err)
	}
	waitFor(t, o.prov.byes, "BYE at the mobile when the customer hangs up")
	if end := waitFor(t, o.ends, "the call's end"); end.Direction != DirectionIn || end.Outcome != OutcomeAnswered {
		t.Errorf("call ended as %+v, want the customer's answered call in", end)
	}
	portsFreed(t, o.srv)
}

// A busy mobile fails the transfer: Grace hears 486, nothing else moves,
// and Ada and Grace still talk phone to phone.
func TestBlindTransferToABusyOutsideNumberKeepsTheCall(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	o.referOut(t, ctx, graceIn.Dialog, "5557001", "+15550102").refuse(486)
	frags := sipfrags(t, o.grace)
	if last := frags[len(frags)-1]; last != "SIP/2.0 486 Busy Here" {
		t.Fatalf("transferor was told %q, want it to end with 486 Busy Here", frags)
	}
	if e := o.wantEvent(t, "transfer-blind", "1002@acme.example", "5557001@127.0.0.2", false); e.Status != "486" {
		t.Fatalf("failed transfer event has status %q, want 486", e.Status)
	}
	select {
	case r := <-o.ada.Reinvites:
		t.Fatalf("a failed transfer re-INVITEd Ada: %q", r.Body())
	default:
	}
	if n := o.srv.ports.InUse(); n != 0 {
		t.Errorf("%d RTP ports in use after the failed transfer, want its relay closed", n)
	}
	o.wantCallKept(t, ctx, adaCall, graceIn)
}

// A mobile nobody answers fails the transfer when the ring timeout
// passes: the provider's call is cancelled, Grace hears 480, and the call
// goes on between Ada and Grace.
func TestBlindTransferToAnOutsideNumberNobodyAnswers(t *testing.T) {
	o := newOutsideTransferOffice(t, "", func(c *Config) { c.RingTimeout = 3 * time.Second })
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	mobile := o.referOut(t, ctx, graceIn.Dialog, "5557001", "+15550102")
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 480 Temporarily Unavailable")
	waitFor(t, mobile.Cancelled, "CANCEL at the provider")
	o.wantCallKept(t, ctx, adaCall, graceIn)
}

// With the provider down, the transfer fails at once with 503 and the
// call goes on; nothing is dialled.
func TestBlindTransferOutOnALineThatIsDownFails(t *testing.T) {
	o := newOutsideTransferOffice(t, silentHost(t))
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	if res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:5557001@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 100 Trying", "SIP/2.0 503 Service Unavailable")
	o.wantCallKept(t, ctx, adaCall, graceIn)
}

// Grace has Ada on one call and consults a mobile on an outside call,
// then joins them (REFER with Replaces): Ada and the mobile are
// re-INVITEd to a relay of deskpbx's, never to each other, Grace's two
// legs are hung up, and the two talk. When Ada hangs up the mobile gets
// BYE and every relay port is freed.
func TestAttendedTransferToAnOutsideConsultation(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	mobileM := testphone.NewMedia(t)
	o.prov.answersAt(mobileM)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	consulted := make(chan *sipgo.DialogClientSession, 1)
	go func() {
		d, err := o.grace.DialFeature(ctx, "5557001", o.graceM)
		if err != nil {
			t.Errorf("Grace calls the mobile: %v", err)
		}
		consulted <- d
	}()
	waitFor(t, o.outside, "Grace's consultation at the provider").answerWith(mobileM)
	consult := waitFor(t, consulted, "the consultation answered")

	res, err := testphone.Refer(ctx, graceIn.Dialog, testphone.ReplacesOf("5557001", "acme.example", consult))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER with Replaces naming the outside call: %v %v, want 202", res, err)
	}
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 100 Trying", "SIP/2.0 200 OK")
	o.wantAdaJoinedToTheMobile(t, ctx, adaCall, mobileM, 2)
}

// Grace transfers Ada to a mobile she is still calling (the consultation
// rings at the provider): once the mobile answers, Ada and the mobile are
// joined through a relay of deskpbx's, as when Grace talked to it first.
func TestAttendedTransferWhileTheOutsideNumberRings(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	mobileM := testphone.NewMedia(t)
	o.prov.answersAt(mobileM)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)

	referTo, answered := dialRinging(t, ctx, o.grace, o.graceM, "5557001")
	mobile := waitFor(t, o.outside, "Grace's consultation ringing at the provider")
	if res, err := testphone.Refer(ctx, graceIn.Dialog, referTo); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER naming the ringing outside call: %v %v, want 202", res, err)
	}
	wantFrags(t, sipfrags(t, o.grace, 2), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing")
	mobile.answerWith(mobileM)
	if err := waitFor(t, answered, "Grace's consultation answered"); err != nil {
		t.Fatalf("consultation call: %v", err)
	}
	wantFrags(t, sipfrags(t, o.grace), "SIP/2.0 200 OK")
	o.wantAdaJoinedToTheMobile(t, ctx, adaCall, mobileM, 1)
}

// wantAdaJoinedToTheMobile checks an attended transfer by Grace that
// joins Ada to the mobile she consulted: Ada is asked for her offer,
// both are given deskpbx's relay (never each other), Grace's legs are
// hung up (graceLegs: those her phone knows; a call dialled by hand is
// not one, and its phone answers the BYE 481), and the two talk; when Ada hangs up the mobile gets BYE
// and every relay port is freed.
func (o *outsideTransferOffice) wantAdaJoinedToTheMobile(t *testing.T, ctx context.Context, adaCall *sipgo.DialogClientSession, mobileM *testphone.Media, graceLegs int) {
	t.Helper()
	if re := waitFor(t, o.ada.Reinvites, "re-INVITE at Ada"); len(re.Body()) != 0 {
		t.Fatalf("Ada's re-INVITE offered %q, want none (her own offer is asked for)", re.Body())
	}
	adaAck := waitFor(t, o.ada.Acks, "ACK with the mobile's answer at Ada")
	for range graceLegs {
		waitFor(t, o.grace.Byes, "BYE at one of Grace's legs")
	}
	// The mobile's offers: the consultation's INVITE, then the re-INVITE.
	talkThroughUs(t, o.adaM, adaAck.Body(), mobileM, []byte(o.prov.offer(1)), o.graceM.Port())
	o.wantEvent(t, "transfer-attended", "1002@acme.example", "5557001@127.0.0.2", true)
	o.wantTransferListed(t, "1002@acme.example", "5557001@127.0.0.2")

	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.prov.byes, "BYE at the mobile when Ada hangs up")
	portsFreed(t, o.srv)
}

// A customer who called Ada's number is sent on to Grace: her phone
// rings showing the customer, and once she answers the two talk through
// a relay of deskpbx's; the provider never learns Grace's address, nor
// Grace the customer's. When Grace hangs up, the provider gets BYE.
func TestBlindTransferOfACustomerToAColleagueKeepsMediaAnchored(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	customerM := testphone.NewMedia(t)
	_, adaIn := o.customerCallsAda(t, ctx, customerM)

	if res, err := testphone.Refer(ctx, adaIn.Dialog, "<sip:1002@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("Ada transfers the customer to Grace: %v %v, want 202", res, err)
	}
	graceIn := waitFor(t, o.grace.Incoming, "the customer at Grace's phone")
	if from := graceIn.Req.From().Address.User; from != "+15557777" {
		t.Errorf("Grace's phone shows %q, want the customer +15557777", from)
	}
	if frags := sipfrags(t, o.ada); frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Fatalf("Ada was told %q, want the transfer done", frags)
	}
	graceAck := waitFor(t, o.grace.Acks, "ACK with the customer's answer at Grace")
	waitFor(t, o.ada.Byes, "BYE at Ada, the transferor")
	// The provider's offers: the re-INVITE (the customer's INVITE was its own).
	talkThroughUs(t, customerM, []byte(o.prov.offer(0)), o.graceM, graceAck.Body(), o.adaM.Port())
	o.wantEvent(t, "transfer-blind", "1001@acme.example", "1002@acme.example", true)

	if err := graceIn.Dialog.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.prov.byes, "BYE at the provider when Grace hangs up")
	portsFreed(t, o.srv)
}

// A transfer moves the busy lamps with the call: Grace's goes off when
// she transfers Ada to Carol, Carol's lights while she talks to Ada, and
// both Ada's and Carol's go off when the call ends; Grace's stays off.
func TestBlindTransferMovesTheBusyLamps(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	callID := adaCall.InviteRequest.CallID().Value()
	id := func(number string) int64 {
		n, _ := strconv.ParseInt(o.extID(number), 10, 64)
		return n
	}
	if res, err := testphone.Refer(ctx, graceIn.Dialog, "<sip:1003@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	waitFor(t, o.grace.Byes, "BYE at the transferor")
	want := func(who string, states ...CallState) {
		t.Helper()
		if got := o.lamps.states(callID, id(who)); fmt.Sprint(got) != fmt.Sprint(states) {
			t.Errorf("%s's lamp went %v, want %v", who, got, states)
		}
	}
	want("1002", CallEarly, CallConfirmed, CallTerminated)
	want("1003", CallConfirmed)
	want("1001", CallEarly, CallConfirmed)
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.carol.Byes, "BYE at Carol when Ada hangs up")
	waitFor(t, o.ends, "the call's end")
	want("1002", CallEarly, CallConfirmed, CallTerminated)
	want("1003", CallConfirmed, CallTerminated)
	want("1001", CallEarly, CallConfirmed, CallTerminated)
}

// Ada hangs up while the mobile Grace transfers her to still rings: the
// provider's call is cancelled, Grace hears the transfer failed and is
// hung up (the call she transferred is over), and nothing is left open.
func TestCallerHangsUpWhileTheOutsideNumberRings(t *testing.T) {
	o := newOutsideTransferOffice(t, "")
	ctx := callCtx(t)
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	mobile := o.referOut(t, ctx, graceIn.Dialog, "5557001", "+15550102")
	wantFrags(t, sipfrags(t, o.grace, 2), "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing")
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, mobile.Cancelled, "CANCEL at the provider")
	waitFor(t, o.grace.Byes, "BYE at Grace: the call she was transferring is over")
	o.wantEvent(t, "transfer-blind", "1002@acme.example", "5557001@127.0.0.2", false)
	waitFor(t, o.ends, "the call's end")
	portsFreed(t, o.srv)
}
