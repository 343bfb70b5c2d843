package pbx

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
)

func TestWrongPasswordAndUnknownUserAreRefusedAlike(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	res, err := ada.DoAuth(ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 600), "wrong-password")
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 403 {
		t.Fatalf("wrong password: %d, want 403", res.StatusCode)
	}
	ghost := testphone.New(t, o.srv.SIPAddr(), "1999", "acme.example", "whatever1")
	res, _ = ghost.DoAuth(ghost.RegisterRequest("<sip:1999@"+ghost.Addr+">", 600), "whatever1")
	if res.StatusCode != 403 {
		t.Fatalf("unknown user: %d, want 403", res.StatusCode)
	}
	other := testphone.New(t, o.srv.SIPAddr(), "1001", "nowhere.example", "pw-1001-x")
	res, _ = other.DoAuth(other.RegisterRequest("<sip:1001@"+other.Addr+">", 600), "pw-1001-x")
	if res.StatusCode == 200 {
		t.Fatal("registration for an unknown domain with another tenant's password succeeded")
	}
	if n := o.srv.Location().Count(); n != 0 {
		t.Fatalf("%d bindings after refused registrations", n)
	}
	// Registering someone else's AOR with one's own credentials fails.
	res, _ = ada.DoAuth(func() *sip.Request {
		r := ada.RegisterRequest("<sip:1002@"+ada.Addr+">", 600)
		to := r.To()
		to.Address.User = "1002"
		return r
	}(), "pw-1001-x")
	if res.StatusCode != 403 {
		t.Fatalf("registering 1002 as 1001: %d, want 403", res.StatusCode)
	}
	ada.Register()
}

func TestRegistrationLifecycle(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	second := "<sip:1001@127.0.0.1:5999>"

	res, _ := ada.DoAuth(ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 30), ada.Password)
	if res.StatusCode != 423 || res.GetHeader("Min-Expires") == nil {
		t.Fatalf("expires 30: %d, want 423 with Min-Expires", res.StatusCode)
	}
	ada.Register()
	res, _ = ada.DoAuth(ada.RegisterRequest(second+";expires=120", -1), ada.Password)
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("second contact: %d with %d contacts, want 200 with 2", res.StatusCode, len(res.GetHeaders("Contact")))
	}
	for _, h := range res.GetHeaders("Contact") {
		c := h.(*sip.ContactHeader)
		exp, _ := c.Params.Get("expires")
		if strings.Contains(c.Address.String(), "5999") && exp != "120" {
			t.Fatalf("second contact expires=%s, want 120", exp)
		}
	}
	// A REGISTER without Contact lists the bindings and changes nothing.
	res, _ = ada.DoAuth(ada.RegisterRequest("", -1), ada.Password)
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 2 {
		t.Fatalf("query: %d with %d contacts, want 200 with 2", res.StatusCode, len(res.GetHeaders("Contact")))
	}
	res, _ = ada.DoAuth(ada.RegisterRequest(second, 0), ada.Password)
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 1 {
		t.Fatalf("unregister one: %d with %d contacts, want 200 with 1", res.StatusCode, len(res.GetHeaders("Contact")))
	}
	res, _ = ada.DoAuth(ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 0), ada.Password)
	res, _ = ada.DoAuth(ada.RegisterRequest("*", 5), ada.Password)
	if res.StatusCode != 400 {
		t.Fatalf("Contact * with Expires 5: %d, want 400", res.StatusCode)
	}
	ada.Register()
	res, _ = ada.DoAuth(ada.RegisterRequest("*", 0), ada.Password)
	if res.StatusCode != 200 || len(res.GetHeaders("Contact")) != 0 {
		t.Fatalf("Contact *: %d with %d contacts, want 200 with none", res.StatusCode, len(res.GetHeaders("Contact")))
	}
	if n := o.srv.Location().Count(); n != 0 {
		t.Fatalf("%d bindings left after Contact: *", n)
	}
}

func TestBindingsExpireOnTime(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var clock = now
	o := newOffice(t)
	o.db.Now = func() time.Time { return clock }
	o.stop()
	o.start()
	ada := o.phone("1001")
	res, _ := ada.DoAuth(ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 60), ada.Password)
	if res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if got := len(o.srv.Location().Lookup(mustExt(t, o, "1001"))); got != 1 {
		t.Fatalf("%d bindings, want 1", got)
	}
	clock = now.Add(61 * time.Second)
	if got := len(o.srv.Location().Lookup(mustExt(t, o, "1001"))); got != 0 {
		t.Fatalf("binding still live after its expiry")
	}
}

func mustExt(t *testing.T, o *office, number string) int64 {
	t.Helper()
	e, err := o.db.LookupExtension(context.Background(), "acme.example", number)
	if err != nil {
		t.Fatal(err)
	}
	return e.ID
}

func TestReplayedAuthorizationIsRefused(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	req := ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 600)
	res, err := ada.DoAuth(req, ada.Password)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("register: %v %v", res, err)
	}
	// Send the very same signed request again, as an attacker who
	// captured it would: same nonce, same nc.
	replay := req.Clone()
	replay.RemoveHeader("Via")
	cseq := replay.CSeq()
	cseq.SeqNo++
	res = ada.Send(replay)
	if res.StatusCode == 200 {
		t.Fatal("replayed Authorization accepted")
	}
	if res.StatusCode != 401 || !strings.Contains(res.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("replay: %d %v, want 401 with stale=true", res.StatusCode, res.GetHeader("WWW-Authenticate"))
	}
}

func TestExpiredNonceIsStale(t *testing.T) {
	o := newOffice(t, func(c *Config) { c.NonceTTL = 50 * time.Millisecond })
	ada := o.phone("1001")
	req := ada.RegisterRequest("<sip:1001@"+ada.Addr+">", 600)
	res := ada.Send(req)
	if res.StatusCode != 401 {
		t.Fatalf("first REGISTER: %d, want 401", res.StatusCode)
	}
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res2, err := ada.Client.DoDigestAuth(ctx, req, res, ada.Digest())
	if err != nil {
		t.Fatal(err)
	}
	if res2.StatusCode != 401 || !strings.Contains(res2.GetHeader("WWW-Authenticate").Value(), "stale=true") {
		t.Fatalf("expired nonce: %d, want 401 stale=true", res2.StatusCode)
	}
}

func TestRegistrationsSurviveRestart(t *testing.T) {
	o := newOffice(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	grace.Register()
	addr := o.srv.SIPAddr()
	o.stop()
	o.start(func(c *Config) { c.SIPAddr = addr })
	ada.PBX = o.srv.SIPAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("call after restart without re-registering: %v", err)
	}
	waitFor(t, grace.Incoming, "INVITE at 1002 after restart")
	call.Bye(ctx)
}

func TestGarbageAndOddRequestsGetAnswers(t *testing.T) {
	// REFER is implemented now (issue 11): outside a dialog it gets 481,
	// where it used to get 501 Not Implemented.
	o := newOffice(t)
	ada := o.phone("1001")
	for _, m := range []struct {
		method sip.RequestMethod
		want   int
	}{{sip.REFER, 481}, {sip.MESSAGE, 405}, {sip.OPTIONS, 200}, {"FROB", 501}} {
		req := sip.NewRequest(m.method, ada.URI("1002"))
		if res := ada.Send(req); res.StatusCode != m.want {
			t.Errorf("%s: %d, want %d", m.method, res.StatusCode, m.want)
		}
	}
	bye := sip.NewRequest(sip.BYE, ada.URI("1002"))
	to := &sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "1002", Host: "acme.example"}, Params: sip.NewParams()}
	to.Params.Add("tag", "nosuchdialog")
	bye.AppendHeader(to)
	if res := ada.Send(bye); res.StatusCode != 481 {
		t.Errorf("BYE outside a dialog: %d, want 481", res.StatusCode)
	}
	inv := sip.NewRequest(sip.INVITE, ada.URI("1002"))
	inv.AppendHeader(sip.NewHeader("Require", "100rel"))
	inv.AppendHeader(&ada.DUA.ContactHDR)
	if res := ada.Send(inv); res.StatusCode != 420 {
		t.Errorf("INVITE requiring 100rel: %d, want 420", res.StatusCode)
	}
}

func TestPasswordGuessingBlocksTheSourceAddress(t *testing.T) {
	o := newOffice(t)
	guesser := o.phone("1001")
	for i := 0; i < authFailLimit; i++ {
		res, err := guesser.DoAuth(guesser.RegisterRequest("<sip:1001@"+guesser.Addr+">", 600), fmt.Sprintf("guess-%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 403 {
			t.Fatalf("guess %d: %d, want 403", i, res.StatusCode)
		}
	}
	// Now even the right password is refused from that address, before
	// any challenge: the guesser learns nothing more.
	res := guesser.Send(guesser.RegisterRequest("<sip:1001@"+guesser.Addr+">", 600))
	if res.StatusCode != 403 {
		t.Fatalf("blocked address, no credentials: %d, want 403", res.StatusCode)
	}
	if n := o.srv.Location().Count(); n != 0 {
		t.Fatalf("%d bindings after guessing", n)
	}
}

// A phone's first REGISTER is challenged statelessly (RFC 3261 §8.2.7):
// its retransmission is not absorbed by a transaction but earns a second
// 401, with a fresh nonce and the same To tag, and either nonce registers.
func TestRetransmittedUnauthenticatedRegisterGetsAnotherChallenge(t *testing.T) {
	o := newOffice(t)
	phone := newRawUA(t, "127.0.0.5", o.srv.SIPAddr())
	first := phone.request("REGISTER", "1001", "acme.example", "")
	a, b := phone.exchange(first), phone.exchange(first)
	if a.StatusCode != 401 || b.StatusCode != 401 {
		t.Fatalf("answers: %d, %d; want 401 twice", a.StatusCode, b.StatusCode)
	}
	tagA, _ := a.To().Params.Get("tag")
	tagB, _ := b.To().Params.Get("tag")
	if tagA == "" || tagA != tagB {
		t.Fatalf("To tags %q and %q: a stateless UAS gives the same request the same tag", tagA, tagB)
	}
	_, nonceA := challengeOf(t, a)
	realm, nonceB := challengeOf(t, b)
	if nonceA == nonceB {
		t.Fatal("the retransmission got the first answer again: a transaction kept it")
	}
	if via := a.Via(); via.Params.GetOr("branch", "") == "" || a.CallID().Value() == "" || a.CSeq().SeqNo == 0 {
		t.Fatalf("401 lost the request's Via, Call-ID or CSeq:\n%s", a)
	}
	for _, nonce := range []string{nonceA, nonceB} {
		auth := digestHeader("Authorization", "1001", realm, "pw-1001-x", nonce, "REGISTER", "sip:acme.example")
		if res := phone.exchange(phone.request("REGISTER", "1001", "acme.example", auth)); res.StatusCode != 200 {
			t.Fatalf("REGISTER with nonce %s: %d, want 200", nonce, res.StatusCode)
		}
	}
}

// An authenticated REGISTER is answered in a transaction: when its 200 is
// lost, the retransmission (same nonce, same nc) gets that 200 again, not
// a replay refusal.
func TestRetransmittedAuthenticatedRegisterGetsTheSame200(t *testing.T) {
	o := newOffice(t)
	phone := newRawUA(t, "127.0.0.6", o.srv.SIPAddr())
	realm, nonce := challengeOf(t, phone.exchange(phone.request("REGISTER", "1001", "acme.example", "")))
	signed := phone.request("REGISTER", "1001", "acme.example",
		digestHeader("Authorization", "1001", realm, "pw-1001-x", nonce, "REGISTER", "sip:acme.example"))
	a, b := phone.exchange(signed), phone.exchange(signed)
	if a.StatusCode != 200 || b.StatusCode != 200 {
		t.Fatalf("answers: %d, %d; want 200 twice", a.StatusCode, b.StatusCode)
	}
	tagA, _ := a.To().Params.Get("tag")
	tagB, _ := b.To().Params.Get("tag")
	if tagA != tagB {
		t.Fatalf("To tags %q and %q: the retransmission was handled anew", tagA, tagB)
	}
}

// registerOK builds what sip.NewResponseFromRequest would, To tag aside.
func TestRegisterOKMatchesSipgosResponse(t *testing.T) {
	raw := "REGISTER sip:acme.example SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK-1;rport\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\r\n" +
		"From: \"Ada\" <sip:1001@acme.example>;tag=f1\r\nTo: <sip:1001@acme.example>\r\n" +
		"Call-ID: c1@10.0.0.7\r\nCSeq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n"
	m, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	req := m.(*sip.Request)
	req.SetSource("192.0.2.9:40000")
	got, want := registerOK(req), sip.NewResponseFromRequest(req, 200, "OK", nil)
	tag, _ := got.To().Params.Get("tag")
	want.To().Params.Add("tag", tag)
	if got.String() != want.String() || got.Destination() != want.Destination() || got.Transport() != want.Transport() {
		t.Fatalf("registerOK:\n%s\nsipgo:\n%s", got, want)
	}
	if again, _ := registerOK(req).To().Params.Get("tag"); len(tag) != 16 || again != tag {
		t.Fatalf("To tags %q, %q: want the same 16 hex digits for the same request", tag, again)
	}
	if req.To().Params.Has("tag") || strings.Contains(req.Via().String(), "received") {
		t.Fatal("registerOK changed the request")
	}
}

// The answers kept for retransmitted REGISTERs are forgotten within twice
// their keep, REGISTERs arriving or not, and a REGISTER being worked on
// is known as such (its retransmissions are dropped).
func TestRegisterRepliesAreKeptThenForgotten(t *testing.T) {
	c := newReplyCache(time.Millisecond)
	a := registerReplyKey("z9hG4bK-a", "127.0.0.1", 5062, "127.0.0.1:5062")
	if _, seen := c.begin(a); seen {
		t.Fatal("a new key was seen")
	}
	if answer, seen := c.begin(a); !seen || answer != nil {
		t.Fatalf("while worked on: %q %v, want seen without an answer", answer, seen)
	}
	c.finish(a, []byte("SIP/2.0 200 OK"))
	if answer, seen := c.begin(a); !seen || string(answer) != "SIP/2.0 200 OK" {
		t.Fatalf("after the answer: %q %v", answer, seen)
	}
	for i := 0; i < 2; i++ {
		time.Sleep(2 * time.Millisecond) // at least keep: each rotate swaps
		c.rotate()
	}
	if _, seen := c.begin(a); seen {
		t.Fatal("the answer outlived twice its keep")
	}
}

// A REGISTER's retransmission has its key, and a REGISTER differing in
// any part of what names it (branch, sent-by host or port, source) has
// another: its own answer, not the first one's.
func TestRegisterReplyKeysTellRequestsApart(t *testing.T) {
	k := registerReplyKey("z9hG4bK-1", "127.0.0.1", 5062, "127.0.0.1:5062")
	if again := registerReplyKey("z9hG4bK-1", "127.0.0.1", 5062, "127.0.0.1:5062"); again != k {
		t.Fatal("a retransmission got another key")
	}
	for _, other := range []replyKey{
		registerReplyKey("z9hG4bK-2", "127.0.0.1", 5062, "127.0.0.1:5062"),
		registerReplyKey("z9hG4bK-1", "127.0.0.2", 5062, "127.0.0.1:5062"),
		registerReplyKey("z9hG4bK-1", "127.0.0.1", 5063, "127.0.0.1:5062"),
		registerReplyKey("z9hG4bK-1", "127.0.0.1", 5062, "127.0.0.1:5063"),
		// The parts' boundaries count: no two splits of one string match.
		registerReplyKey("z9hG4bK-1127.0.0.1", "", 5062, "127.0.0.1:5062"),
	} {
		if other == k {
			t.Fatalf("%x: another request shares the key", other)
		}
	}
}
