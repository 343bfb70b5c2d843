package pbx

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// provider is a SIP provider on 127.0.0.2 (deskpbx's phones are on
// 127.0.0.1, so their addresses never look like the trunk's): it answers
// every call with SDP for its own media port and every re-INVITE, and
// keeps the bodies it was offered.
type provider struct {
	addr   string
	dua    *sipgo.DialogUA // places calls from addr, as the outside world's
	mu     sync.Mutex
	offers []string // INVITE and re-INVITE bodies, in order
	byes   chan struct{}
	// rtpPort is the media port its answers give (7000 unless a test
	// listens there).
	rtpPort int
	rtpHost string // and its address (127.0.0.2 unless a test's media is elsewhere)
	// outside, once a test calls ringOutside, gets each new call from
	// deskpbx ringing, for the test to answer or refuse (refer_trunk_test.go).
	outside chan *outsideCall
	in      map[string]*sipgo.DialogServerSession
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p := &provider{addr: conn.LocalAddr().String(), byes: make(chan struct{}, 4), rtpPort: 7000, rtpHost: "127.0.0.2",
		in: make(map[string]*sipgo.DialogServerSession)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("provider"), sipgo.WithUserAgentHostname("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.2", Port: port}}
	sdp := func(dir string) []byte {
		p.mu.Lock()
		port, host := p.rtpPort, p.rtpHost
		p.mu.Unlock()
		return []byte(fmt.Sprintf("v=0\r\no=- 2 2 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", host, host, port, dir))
	}
	answer := func(req *sip.Request, tx sip.ServerTransaction, dir string) {
		p.mu.Lock()
		p.offers = append(p.offers, string(req.Body()))
		p.mu.Unlock()
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp(dir))
		if !req.To().Params.Has("tag") {
			res.To().Params.Add("tag", sip.GenerateTagN(8))
		}
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&contact)
		tx.Respond(res)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		if p.ringsOutside(req, tx) {
			return
		}
		dir := "sendrecv"
		if strings.Contains(string(req.Body()), "a=sendonly") {
			dir = "recvonly"
		}
		answer(req, tx, dir)
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if d := p.inCall(req); d != nil {
			d.ReadAck(req, tx)
		}
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if d := p.inCall(req); d != nil {
			d.ReadBye(req, tx)
		} else {
			tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		}
		p.byes <- struct{}{}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	done := make(chan struct{})
	go func() { defer close(done); srv.ServeUDP(conn) }()
	t.Cleanup(func() { srv.Close(); conn.Close(); ua.Close(); <-done })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.2"), sipgo.WithClientConnectionAddr(p.addr))
	if err != nil {
		t.Fatal(err)
	}
	p.dua = &sipgo.DialogUA{Client: client, ContactHDR: contact}
	for i := 0; ; i++ { // the listener joins the connection pool just after serving starts
		if c, err := ua.TransportLayer().GetConnection("udp", p.addr); err == nil && c != nil {
			break
		}
		if i > 500 {
			t.Fatal("provider listener never joined the connection pool")
		}
		time.Sleep(2 * time.Millisecond)
	}
	return p
}

// callIn has the provider call did at deskpbx (pbx) as caller, offering
// media at 127.0.0.1:rtpPort, and waits for the final answer (ACKed if
// 2xx).
func (p *provider) callIn(ctx context.Context, pbx, did, caller string, rtpPort int) (*sipgo.DialogClientSession, error) {
	host, port := splitHostPort(pbx)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: did, Host: host, Port: port})
	from := &sip.FromHeader{DisplayName: "Customer", Address: sip.Uri{Scheme: "sip", User: caller, Host: "provider.test"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: did, Host: "provider.test"}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(testphone.SDP(rtpPort, "sendrecv"))
	d, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		return d, err
	}
	return d, d.Ack(ctx)
}

func (p *provider) offer(i int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= len(p.offers) {
		return ""
	}
	return p.offers[i]
}

func audioPort(body string) int {
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "m=audio" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// On a call out through a trunk neither side learns the other's media
// address, also when the phone puts the call on hold: the re-INVITE
// reaches the provider pointing at the relay, and its answer reaches the
// phone pointing at the relay.
func TestTrunkCallHoldKeepsMediaAnchored(t *testing.T) {
	o := newOffice(t)
	prov := newProvider(t)
	if _, err := o.db.CreateTrunk(context.Background(), store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	o.stop()
	o.start()
	ada := o.phone("1001")
	ada.Register()
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The trunk table loads just after start.
	for i := 0; len(o.srv.Trunks()) == 0; i++ {
		if i > 100 {
			t.Fatal("the trunk was not loaded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	call, err := ada.DialFeature(ctx, "5557001", m) // national: the default permission
	if err != nil {
		t.Fatalf("call out: %v", err)
	}
	answer := string(call.InviteResponse.Body())
	phoneSidePort := audioPort(answer)
	first := prov.offer(0)
	providerSidePort := audioPort(first)
	if strings.Contains(answer, "127.0.0.2") || phoneSidePort == 7000 || phoneSidePort == 0 {
		t.Fatalf("the phone was given the provider's media:\n%s", answer)
	}
	if providerSidePort == m.Port() || providerSidePort == 0 || !strings.Contains(first, "c=IN IP4 127.0.0.1") {
		t.Fatalf("the provider was offered the phone's media:\n%s", first)
	}

	res, err := testphone.Reinvite(ctx, call, testphone.SDP(m.Port(), "sendonly"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("hold: %v %v", res, err)
	}
	hold := prov.offer(1)
	if audioPort(hold) != providerSidePort || !strings.Contains(hold, "a=sendonly") {
		t.Fatalf("the provider got the hold re-INVITE as:\n%s\nwant the relay's port %d, sendonly", hold, providerSidePort)
	}
	if got := string(res.Body()); audioPort(got) != phoneSidePort || strings.Contains(got, "127.0.0.2") || !strings.Contains(got, "a=recvonly") {
		t.Fatalf("the phone got the hold answer as:\n%s\nwant the relay's port %d, recvonly", got, phoneSidePort)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prov.byes, "BYE at the provider")
}

// silentHost is a UDP address that takes SIP and never answers: a
// provider that is down.
func silentHost(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn.LocalAddr().String()
}

func waitTrunkState(t *testing.T, srv *Server, state string) {
	t.Helper()
	for i := 0; ; i++ {
		for _, k := range srv.Trunks() {
			if k.State == state {
				return
			}
		}
		if i > 600 {
			t.Fatalf("no trunk became %s: %+v", state, srv.Trunks())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// An outside call the office refuses is never answered: the phone gets
// 183 with SDP, hears why in the RTP that follows, then 403 (a number
// the person may not dial) or 503 (the line is down); nothing goes to
// the provider. A phone hanging up during the message gets 487.
func TestRefusedOutsideCallsSayWhyAsEarlyMediaThenFail(t *testing.T) {
	o := newOffice(t)
	prov := newProvider(t)
	ctx := context.Background()
	if _, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	internal := store.PermInternal
	if _, err := o.db.SetExtensionOutside(ctx, "acme.example", "1001", store.ExtensionOutsideSettings{Permission: &internal}); err != nil {
		t.Fatal(err)
	}
	m, ends := o.observed()
	waitTrunkState(t, o.srv, store.TrunkReachable)
	ada := o.phone("1001")
	ada.Register()

	t.Run("not allowed: 183, the message, 403", func(t *testing.T) {
		// The message is about 3 s: 20 ms a packet.
		got := testphone.DialRefused(t, ada, "5557001", 403, 100)
		if !strings.Contains(string(got.Progress.Body()), "m=audio ") {
			t.Fatalf("183 without audio:\n%s", got.Progress.Body())
		}
		if end := waitFor(t, ends, "the refused call's end"); end.Outcome != OutcomeFailed || end.Missed() || !end.Answered.IsZero() {
			t.Errorf("refused call ended as %+v, want failed and never answered", end)
		}
	})

	t.Run("hanging up during the message: 487", func(t *testing.T) {
		media := testphone.NewMedia(t)
		got := testphone.DialEarly(t, ada, "5557001", media, true)
		if got.Progress == nil {
			t.Fatalf("no 183 with SDP before the phone hung up (final: %v)", got.FinalError)
		}
		if got.FinalCode != 487 {
			t.Fatalf("cancelled during the message: final %d (%v), want 487", got.FinalCode, got.FinalError)
		}
		waitFor(t, ends, "the cancelled call's end")
		if n := m.get("response INVITE 403"); n != 1 {
			t.Errorf("%d INVITEs answered 403, want only the first call's", n)
		}
	})

	if offer := prov.offer(0); offer != "" {
		t.Fatalf("the provider got an INVITE for a refused call:\n%s", offer)
	}

}

// With the provider down, a call out fails at once with the reason
// spoken as early media, then 503; the phone never sees it answered.
func TestOutsideCallOnALineThatIsDownSaysSoThenFails(t *testing.T) {
	o := newOffice(t)
	if _, err := o.db.CreateTrunk(context.Background(), store.NewTrunk{Domain: "acme.example", Name: "down", Host: silentHost(t)}); err != nil {
		t.Fatal(err)
	}
	o.stop()
	o.start()
	waitTrunkState(t, o.srv, store.TrunkFailing)
	ada := o.phone("1001")
	ada.Register()
	// The message is about 3 s: 20 ms a packet.
	testphone.DialRefused(t, ada, "5557001", 503, 100)
}

// lampLog keeps every call state change reported, for a test to read.
type lampLog struct {
	mu     sync.Mutex
	events []CallEvent
}

func (l *lampLog) CallState(_ context.Context, ev CallEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// await waits until state has been reported for anyone on call callID.
func (l *lampLog) await(t *testing.T, callID string, state CallState) {
	t.Helper()
	for i := 0; ; i++ {
		l.mu.Lock()
		seen := false
		for _, ev := range l.events {
			seen = seen || ev.CallID == callID && ev.State == state
		}
		l.mu.Unlock()
		if seen {
			return
		}
		if i > 1000 {
			t.Fatalf("call state %v never reported for %s", state, callID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// states is the states reported for the person with ID id on call callID.
func (l *lampLog) states(callID string, id int64) []CallState {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []CallState
	for _, ev := range l.events {
		if ev.CallID == callID && ev.Identity.ID == id {
			out = append(out, ev.State)
		}
		if ev.Identity.ID == 0 {
			out = append(out, -1) // an outside party has no lamp
		}
	}
	return out
}

// Calls through a trunk are calls like any other: counted by outcome,
// passed to the call-end listeners (the call log, the missed-call
// webhook) with their direction, and shown on the person's busy lamp
// from ringing to hang-up. A customer nobody answered is Grace's missed
// call; an outside number that did not answer is nobody's.
func TestTrunkCallsAreCountedLoggedAndLampedLikeOthers(t *testing.T) {
	o := newOffice(t)
	prov := newProvider(t)
	ctx := context.Background()
	if _, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	for did, ext := range map[string]string{"+15550101": "1001", "+15550102": "1002"} {
		if _, err := o.db.CreateDID(ctx, "acme.example", did, ext); err != nil {
			t.Fatal(err)
		}
	}
	o.stop()
	m := &tally{}
	ends := make(chan CallEnd, 16)
	lamps := &lampLog{}
	srv, err := New(Config{DB: o.db, Log: testLogger(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{30000, 30999}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetDialPlan(OfficeDialPlan(o.db, o.hotdesk))
	srv.SetMetrics(m)
	srv.OnCallEnded(func(e CallEnd) { ends <- e })
	srv.SetCallObserver(lamps)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	o.srv = srv
	waitTrunkState(t, srv, store.TrunkReachable)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	cctx := callCtx(t)
	lifecycle := []CallState{CallEarly, CallConfirmed, CallTerminated}

	t.Run("a customer's call to Ada's number, answered", func(t *testing.T) {
		d, err := prov.callIn(cctx, srv.SIPAddr(), "+15550101", "+15557777", 7002)
		if err != nil {
			t.Fatalf("call in: %v", err)
		}
		waitFor(t, ada.Incoming, "the DID call at Ada's phone")
		if calls := srv.ActiveCalls(); len(calls) != 1 || calls[0].Callee != "1001@acme.example" || calls[0].Answered.IsZero() {
			t.Errorf("calls in progress: %+v, want the customer's call to Ada, answered", calls)
		}
		// A BYE that overtakes the ACK ends the call before it is confirmed.
		lamps.await(t, d.InviteRequest.CallID().Value(), CallConfirmed)
		if err := d.Bye(cctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, ada.Byes, "BYE at Ada")
		end := waitFor(t, ends, "the call's end")
		if end.Outcome != OutcomeAnswered || end.Direction != DirectionIn || end.Missed() || end.Callee.Number != "1001" ||
			end.Identity.Number != "+15557777" || end.Answered.IsZero() {
			t.Errorf("call in ended as %+v", end)
		}
		if got := lamps.states(end.CallID, end.Callee.ID); fmt.Sprint(got) != fmt.Sprint(lifecycle) {
			t.Errorf("Ada's lamp went %v, want %v (and nothing for the customer)", got, lifecycle)
		}
	})

	t.Run("a customer's call Grace's busy phone refuses is her missed call", func(t *testing.T) {
		grace.SetAnswer(486)
		_, err := prov.callIn(cctx, srv.SIPAddr(), "+15550102", "+15557778", 7002)
		if testphone.StatusOf(err) != 486 {
			t.Fatalf("call in to a busy phone: %v, want 486", err)
		}
		end := waitFor(t, ends, "the call's end")
		if end.Outcome != OutcomeBusy || end.Direction != DirectionIn || !end.Missed() || end.Callee.Number != "1002" {
			t.Errorf("busy call in ended as %+v, want Grace's missed call", end)
		}
	})

	t.Run("Ada's call out, answered", func(t *testing.T) {
		d, err := ada.DialFeature(cctx, "5557001", testphone.NewMedia(t))
		if err != nil {
			t.Fatalf("call out: %v", err)
		}
		if calls := srv.ActiveCalls(); len(calls) != 1 || calls[0].As != "1001@acme.example" || !strings.HasPrefix(calls[0].Callee, "5557001@") {
			t.Errorf("calls in progress: %+v, want Ada's call to 5557001", calls)
		}
		lamps.await(t, d.InviteRequest.CallID().Value(), CallConfirmed)
		if err := d.Bye(cctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, prov.byes, "BYE at the provider")
		end := waitFor(t, ends, "the call's end")
		if end.Outcome != OutcomeAnswered || end.Direction != DirectionOut || end.Missed() || end.Callee.Number != "5557001" ||
			end.Identity.Number != "1001" || end.Answered.IsZero() {
			t.Errorf("call out ended as %+v", end)
		}
		if got := lamps.states(end.CallID, end.Identity.ID); fmt.Sprint(got) != fmt.Sprint(lifecycle) {
			t.Errorf("Ada's lamp went %v, want %v (and nothing for the outside number)", got, lifecycle)
		}
	})

	if got := m.eventually("call answered", 2); got != 2 {
		t.Errorf("%d answered calls counted, want 2", got)
	}
	if got := m.get("call busy"); got != 1 {
		t.Errorf("%d busy calls counted, want 1", got)
	}
}

// An outside number that was busy is not anyone's missed call.
func TestCallEndToABusyOutsideNumberIsNoMissedCall(t *testing.T) {
	e := CallEnd{Callee: &store.Extension{Number: "5557001"}, Outcome: OutcomeBusy, Direction: DirectionOut}
	if e.Missed() {
		t.Fatal("a busy outside number counted as a missed call")
	}
	e.Direction = DirectionIn
	if !e.Missed() {
		t.Fatal("a busy call in is not a missed call")
	}
}

// Grace may call only inside the office: transferring Ada to an outside
// number is refused (403 to the REFER, no NOTIFY), nothing reaches the
// provider, and the call between them goes on.
func TestTransferToAnOutsideNumberTheTransferorMayNotCallIsRefused(t *testing.T) {
	o := newTransferOffice(t)
	prov := newProvider(t)
	ctx := callCtx(t)
	if _, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	internal := store.PermInternal
	if _, err := o.db.SetExtensionOutside(ctx, "acme.example", "1002", store.ExtensionOutsideSettings{Permission: &internal}); err != nil {
		t.Fatal(err)
	}
	adaCall, graceIn := o.call(t, ctx, o.ada, o.adaM, "1002", o.grace)
	for _, target := range []string{"<sip:5557001@acme.example>", "<sip:+442071234567@acme.example>"} {
		res, err := testphone.Refer(ctx, graceIn.Dialog, target)
		if err != nil || res.StatusCode != 403 {
			t.Fatalf("Grace (internal only) transfers Ada to %s: %v %v, want 403", target, res, err)
		}
	}
	select {
	case n := <-o.grace.Notifies:
		t.Fatalf("a refused transfer was followed by a NOTIFY %q", n.Body())
	case r := <-o.ada.Reinvites:
		t.Fatalf("a refused transfer re-INVITEd Ada: %q", r.Body())
	default:
	}
	if offer := prov.offer(0); offer != "" {
		t.Fatalf("a refused transfer reached the provider:\n%s", offer)
	}
	calls := o.srv.ActiveCalls()
	if len(calls) != 1 || calls[0].Answered.IsZero() || calls[0].TransferredTo != "" {
		t.Fatalf("calls after the refused transfer: %+v, want Ada and Grace still talking", calls)
	}
	if err := adaCall.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, o.grace.Byes, "BYE at Grace: the call was untouched")
}

// trunkOffice is an office with a trunk to a provider, loaded and
// reachable, and Ada's DID +15550101.
func trunkOffice(t *testing.T) (*office, *provider) {
	t.Helper()
	o := newOffice(t)
	prov := newProvider(t)
	ctx := context.Background()
	if _, err := o.db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateDID(ctx, "acme.example", "+15550101", "1001"); err != nil {
		t.Fatal(err)
	}
	o.stop()
	o.start()
	waitTrunkState(t, o.srv, store.TrunkReachable)
	return o, prov
}

// udpPair is an RTP socket on ip and the RTCP socket on the port above.
func udpPair(t *testing.T, ip string) (rtpConn, rtcpConn *net.UDPConn) {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 == 0 {
			if r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: port + 1}); err == nil {
				t.Cleanup(func() { c.Close(); r.Close() })
				return c, r
			}
		}
		c.Close()
	}
	t.Fatal("no free port pair for RTP and RTCP on " + ip)
	return nil, nil
}

// On a call out, the phone's RTCP reaches the provider's RTCP port
// through the relay (never straight), and the provider's report comes
// back to the phone's RTCP port.
func TestTrunkCallRelaysRTCPBothWays(t *testing.T) {
	o := newOffice(t)
	prov := newProvider(t)
	provRTP, provRTCP := udpPair(t, "127.0.0.2")
	prov.mu.Lock()
	prov.rtpPort = provRTP.LocalAddr().(*net.UDPAddr).Port
	prov.mu.Unlock()
	if _, err := o.db.CreateTrunk(context.Background(), store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	o.stop()
	o.start()
	waitTrunkState(t, o.srv, store.TrunkReachable)
	ada := o.phone("1001")
	ada.Register()
	phoneRTP, phoneRTCP := udpPair(t, "127.0.0.1")
	ctx := callCtx(t)
	req := sip.NewRequest(sip.INVITE, ada.URI("5557001"))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "acme.example"}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "5557001", Host: "acme.example"}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(testphone.SDP(phoneRTP.LocalAddr().(*net.UDPAddr).Port, "sendrecv"))
	d, err := ada.DUA.WriteInvite(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: ada.User, Password: ada.Password}); err != nil {
		t.Fatalf("call out: %v", err)
	}
	d.Ack(ctx)
	relayPort := audioPort(string(d.InviteResponse.Body()))
	report := []byte{0x80, 201, 0, 1, 0, 0, 0, 42} // an empty receiver report
	read := func(c *net.UDPConn) ([]byte, *net.UDPAddr) {
		t.Helper()
		buf := make([]byte, 1500)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			t.Fatalf("waiting for RTCP at %s: %v", c.LocalAddr(), err)
		}
		return buf[:n], from
	}
	phoneRTCP.WriteToUDP(report, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: relayPort + 1})
	got, src := read(provRTCP)
	if string(got) != string(report) || src.IP.String() != "127.0.0.1" || src.Port != audioPort(prov.offer(0))+1 {
		t.Fatalf("provider got %x from %v, want the phone's report from the port above the relay's RTP port", got, src)
	}
	back := []byte{0x80, 201, 0, 1, 0, 0, 0, 43}
	provRTCP.WriteToUDP(back, src)
	if got, from := read(phoneRTCP); string(got) != string(back) || from.Port != relayPort+1 {
		t.Fatalf("phone got %x from %v, want the provider's report from the relay's port %d", got, from, relayPort+1)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prov.byes, "BYE at the provider")
}

// A customer's call ringing at Ada's phone can be picked up by Grace
// (*8 + 1001): the call stays relayed, each side's answer points at
// deskpbx, and RTP flows between the provider and Grace both ways.
func TestPickupOfACallFromATrunk(t *testing.T) {
	o, prov := trunkOffice(t)
	ctx := callCtx(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	ada.SetAnswer(testphone.RingForever)

	customerM, graceM := testphone.NewMedia(t), testphone.NewMedia(t)
	customer := make(chan *sipgo.DialogClientSession, 1)
	go func() {
		d, err := prov.callIn(ctx, o.srv.SIPAddr(), "+15550101", "+15557777", customerM.Port())
		if err != nil {
			t.Errorf("the customer's call: %v", err)
		}
		customer <- d
	}()
	ringing := waitFor(t, ada.Incoming, "the customer's call ringing at Ada's phone")
	picked, err := grace.DialFeature(ctx, "*81001", graceM)
	if err != nil {
		t.Fatalf("*81001: %v, want the ringing call", err)
	}
	waitFor(t, ringing.Cancelled, "CANCEL at Ada's phone")
	call := waitFor(t, customer, "the customer's call answered")
	if call == nil || call.InviteResponse == nil {
		t.Fatal("the customer's call was not answered by the pickup")
	}
	toProvider, toGrace := string(call.InviteResponse.Body()), string(picked.InviteResponse.Body())
	if audioPort(toProvider) == graceM.Port() || audioPort(toGrace) == customerM.Port() || audioPort(toProvider) == 0 || audioPort(toGrace) == 0 {
		t.Fatalf("the provider got\n%s\nand Grace\n%s\nwant both pointed at deskpbx's relay", toProvider, toGrace)
	}
	customerM.Answered(t, call.InviteResponse.Body())
	graceM.Answered(t, picked.InviteResponse.Body())
	talk(t, customerM, graceM)
	if err := picked.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prov.byes, "BYE at the provider when Grace hangs up")
}

// The provider's side of a call cannot transfer it: a REFER from a
// trunk would let the outside world dial through the office (to a
// colleague, or out again at the office's cost). It gets 403, no phone
// rings, and the call goes on.
func TestProviderCannotTransferACall(t *testing.T) {
	o, prov := trunkOffice(t)
	ctx := callCtx(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	d, err := prov.callIn(ctx, o.srv.SIPAddr(), "+15550101", "+15557777", 7002)
	if err != nil {
		t.Fatalf("call in: %v", err)
	}
	waitFor(t, ada.Incoming, "the DID call at Ada's phone")
	waitFor(t, ada.Acks, "ACK at Ada's phone")
	for _, target := range []string{"<sip:1002@acme.example>", "<sip:5557001@acme.example>"} {
		res, err := testphone.Refer(ctx, d, target)
		if err != nil || res.StatusCode != 403 {
			t.Fatalf("the provider transfers the call to %s: %v %v, want 403", target, res, err)
		}
	}
	if grace.Calls() != 0 || prov.offer(0) != "" {
		t.Fatal("a transfer by the provider rang a phone or went out")
	}
	if calls := o.srv.ActiveCalls(); len(calls) != 1 || calls[0].Answered.IsZero() {
		t.Fatalf("calls after the refused transfer: %+v, want the customer still talking to Ada", calls)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ada.Byes, "BYE at Ada")
}
