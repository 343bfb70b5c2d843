package pbx

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Issue 12, item 1: twenty REGISTERs with made-up nonces, sent with the
// office's address as source, used to block that address for everyone
// behind the office NAT. Now only a nonce we issued to that address can
// count as a failed guess.
func TestSpoofedRegistersWithBogusNoncesDoNotBlockTheOffice(t *testing.T) {
	o := newOffice(t)
	const office = "127.0.0.2"
	spoofer := newRawUA(t, office, o.srv.SIPAddr())
	// An attacker at its own address can get real nonces, but they are
	// bound to that address.
	attacker := newRawUA(t, "127.0.0.3", o.srv.SIPAddr())
	_, theirs := challengeOf(t, attacker.exchange(attacker.request("REGISTER", "1001", "acme.example", "")))
	forged := base64.RawURLEncoding.EncodeToString(make([]byte, nonceRawLen))
	for i := 0; i < 2*authFailLimit; i++ {
		nonce := forged
		if i%2 == 1 {
			nonce = theirs
		}
		auth := digestHeader("Authorization", "1001", "acme.example", "guess", nonce, "REGISTER", "sip:acme.example")
		// No reply is needed by a spoofer; we read it only to check it.
		if res := spoofer.exchange(spoofer.request("REGISTER", "1001", "acme.example", auth)); res.StatusCode != 401 {
			t.Fatalf("spoofed REGISTER %d with a nonce not issued to %s: %d, want a fresh 401 challenge", i, office, res.StatusCode)
		}
	}
	phone := newRawUA(t, office, o.srv.SIPAddr())
	if res := phone.registerWith("1001", "acme.example", "pw-1001-x"); res.StatusCode != 200 {
		t.Fatalf("the office's phone after the spoofed flood: %d, want 200", res.StatusCode)
	}
	if o.srv.guard.blocked(office + ":5060") {
		t.Fatal("the office's address is blocked")
	}
}

// Issue 12, item 2: one spoofed INVITE without credentials used to make
// deskpbx send its 407 eleven times towards the victim over 32 s. Now
// it is answered once, statelessly, and no challenge leaves state.
func TestSpoofedInviteGetsExactlyOneChallenge(t *testing.T) {
	o := newOffice(t)
	victim := newRawUA(t, "127.0.0.4", o.srv.SIPAddr())
	victim.send(victim.request("INVITE", "1001", "acme.example", ""))
	var got []int
	// Timer G would have retransmitted at 0.5, 1.5 and 3.5 s: listen
	// past the third (bounded: a quiet socket ends the wait).
	for res := victim.recv(5 * time.Second); res != nil; res = victim.recv(4 * time.Second) {
		got = append(got, res.StatusCode)
	}
	if len(got) != 1 || got[0] != 407 {
		t.Fatalf("answers to one spoofed INVITE: %v, want exactly one 407", got)
	}
	// Challenges keep nothing: after many, the replay table is untouched.
	for i := 0; i < 200; i++ {
		victim.exchange(victim.request("REGISTER", "1001", "acme.example", ""))
	}
	for i, slot := range o.srv.nonces.slots {
		if slot != (nonceSlot{}) {
			t.Fatalf("slot %d holds %+v after challenges alone", i, slot)
		}
	}
}

// The replay table is fixed in size: a nonce whose slot a newer nonce
// has taken is stale, never accepted again.
func TestNonceTableIsBoundedAndStillRefusesReplays(t *testing.T) {
	now := time.Now()
	s := newNonceStore(time.Minute, func() time.Time { return now })
	if v := s.use(7, "00000001"); v != nonceOK {
		t.Fatalf("first use: %v", v)
	}
	if v := s.use(7, "00000001"); v != nonceStale {
		t.Fatalf("replayed nc: %v, want stale", v)
	}
	if v := s.use(7+nonceSlots, ""); v != nonceOK {
		t.Fatalf("a newer nonce in the same slot: %v", v)
	}
	if v := s.use(7, "00000002"); v != nonceStale {
		t.Fatalf("the older nonce after its slot was taken: %v, want stale", v)
	}
	n := s.issue("127.0.0.1:5060")
	if _, v := s.authentic(n, "127.0.0.1:6000"); v != nonceOK {
		t.Fatal("a nonce does not work from another port of its address")
	}
	if _, v := s.authentic(n, "127.0.0.2:5060"); v != nonceBad {
		t.Fatal("a nonce works from another address")
	}
}

// Issue 12, item 4: a wrong realm used to get 401 for an existing user
// and 403 for an unknown one. Now both get the same fresh challenge.
func TestWrongRealmAnswersAlikeForExistingAndUnknownUsers(t *testing.T) {
	o := newOffice(t)
	prober := newRawUA(t, "127.0.0.5", o.srv.SIPAddr())
	answer := func(user string) string {
		_, nonce := challengeOf(t, prober.exchange(prober.request("REGISTER", user, "acme.example", "")))
		auth := digestHeader("Authorization", user, "wrong.example", "whatever-1", nonce, "REGISTER", "sip:acme.example")
		res := prober.exchange(prober.request("REGISTER", user, "acme.example", auth))
		realm := ""
		if res.StatusCode == 401 {
			realm, _ = challengeOf(t, res)
		}
		return res.StartLine() + " realm=" + realm + " headers=" + headerNames(res.Headers())
	}
	existing, unknown := answer("1001"), answer("1999")
	if existing != unknown {
		t.Fatalf("wrong realm: existing user gets %q, unknown user %q", existing, unknown)
	}
	if !strings.HasPrefix(existing, "SIP/2.0 401") {
		t.Fatalf("wrong realm: %q, want a 401 challenge with the right realm", existing)
	}
}

// Issue 12, item 3: the guessing guard used to clear its whole table,
// blocks included, when a flood of sources filled it. Now a full table
// forgets unblocked entries only: the blocked guesser stays blocked.
func TestFloodOfSourcesDoesNotLiftABlock(t *testing.T) {
	o := newOffice(t)
	const max = 40 // the flood below stands for 100,000 sources
	withGuard(o, func(g *authGuard) { g.max = max })
	guesser := newRawUA(t, "127.0.0.6", o.srv.SIPAddr())
	for i := 0; i < authFailLimit; i++ {
		if res := guesser.registerWith("1001", "acme.example", fmt.Sprintf("guess-%d", i)); res.StatusCode != 403 {
			t.Fatalf("guess %d: %d, want 403", i, res.StatusCode)
		}
	}
	for i := 0; i < 3*max; i++ {
		flood := newRawUA(t, fmt.Sprintf("127.0.1.%d", 1+i), o.srv.SIPAddr())
		if res := flood.registerWith("1002", "acme.example", "wrong-one"); res.StatusCode != 403 {
			t.Fatalf("flood source %d: %d, want 403", i, res.StatusCode)
		}
		flood.conn.Close()
	}
	if res := guesser.registerWith("1001", "acme.example", "pw-1001-x"); res.StatusCode != 403 {
		t.Fatalf("the blocked guesser, with the right password, after the flood: %d, want 403", res.StatusCode)
	}
	withGuard(o, func(g *authGuard) {
		if len(g.bySrc) > max {
			t.Fatalf("%d sources tracked, bound is %d", len(g.bySrc), max)
		}
	})
}

// Issue 12, item 3: a guesser with many addresses stayed under the
// per-address limit on each. Now an extension that fails too often
// closes to every address it is not registered from, while its own
// phone keeps registering.
func TestGuessingFromManyAddressesClosesTheExtension(t *testing.T) {
	o := newOffice(t)
	const limit = 12
	withGuard(o, func(g *authGuard) { g.extLimit = limit })
	desk := newRawUA(t, "127.0.0.7", o.srv.SIPAddr())
	if res := desk.registerWith("1001", "acme.example", "pw-1001-x"); res.StatusCode != 200 {
		t.Fatalf("the desk phone: %d", res.StatusCode)
	}
	for i := 0; i < limit; i++ {
		bot := newRawUA(t, fmt.Sprintf("127.0.2.%d", 1+i/3), o.srv.SIPAddr()) // 3 guesses an address
		if res := bot.registerWith("1001", "acme.example", fmt.Sprintf("guess-%d", i)); res.StatusCode != 403 {
			t.Fatalf("guess %d: %d, want 403", i, res.StatusCode)
		}
	}
	// Even the right password now fails from a new address...
	fresh := newRawUA(t, "127.0.2.200", o.srv.SIPAddr())
	if res := fresh.registerWith("1001", "acme.example", "pw-1001-x"); res.StatusCode != 403 {
		t.Fatalf("the right password from a new address of a closed extension: %d, want 403", res.StatusCode)
	}
	// ...but the registered phone renews, and other extensions work.
	if res := desk.registerWith("1001", "acme.example", "pw-1001-x"); res.StatusCode != 200 {
		t.Fatalf("the registered phone renewing: %d, want 200", res.StatusCode)
	}
	if res := fresh.registerWith("1002", "acme.example", "pw-1002-x"); res.StatusCode != 200 {
		t.Fatalf("another extension from the same new address: %d, want 200", res.StatusCode)
	}
}

// withGuard runs f on the running server's guard under its lock.
func withGuard(o *office, f func(*authGuard)) {
	o.srv.guard.mu.Lock()
	defer o.srv.guard.mu.Unlock()
	f(o.srv.guard)
}

// Issue 12, item 16: an OPTIONS with a raw NUL byte in its Request-URI
// was answered 200 OK. Now it is refused as malformed (or dropped).
func TestRequestURIWithANULByteIsNotAccepted(t *testing.T) {
	o := newOffice(t)
	probe := newRawUA(t, "127.0.0.12", o.srv.SIPAddr())
	for _, uri := range []string{"sip:1001\x00@acme.example", "sip:1001@acme.example\x00.evil", "sip:1001@acme.example;x=\x01"} {
		msg := fmt.Sprintf("OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-nul-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:probe@acme.example>;tag=n\r\nTo: <sip:1001@acme.example>\r\nCall-ID: nul-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
			uri, probe.addr(), rawSeq.Add(1), rawSeq.Add(1))
		probe.send(msg)
		if res := probe.recv(2 * time.Second); res != nil && res.StatusCode != 400 {
			t.Errorf("OPTIONS %q: %d, want 400 or no answer", uri, res.StatusCode)
		}
	}
	// The same with the byte %-escaped is a valid URI (RFC 4475 escnull).
	ok := fmt.Sprintf("OPTIONS sip:1001%%00@acme.example SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-nul-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@acme.example>;tag=n\r\nTo: <sip:1001@acme.example>\r\nCall-ID: nul-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		probe.addr(), rawSeq.Add(1), rawSeq.Add(1))
	if res := probe.exchange(ok); res.StatusCode != 200 {
		t.Errorf("OPTIONS with an escaped NUL: %d, want 200", res.StatusCode)
	}
}
