package media

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// elsewhere is a host that is neither the phone's SIP source nor its SDP
// address: Linux routes all of 127.0.0.0/8 to lo.
var elsewhere = netip.MustParseAddr("127.0.0.2")

// phoneOn is newPhone on another loopback address.
func phoneOn(t testing.TB, ip netip.Addr, dst netip.AddrPort) *phone {
	t.Helper()
	p := newPhone(t, dst)
	p.conn.Close()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p.conn = conn
	return p
}

func TestAThirdPartyCannotTakeOverTheRTPOfACall(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{Signaling: loopback})
	ph := newPhone(t, s.LocalAddr())
	connect(s, ph, PCMU, 101)
	attacker := phoneOn(t, elsewhere, s.LocalAddr())
	attacker.hdr.SSRC = 0xbad

	// It gets in first, before the phone's first packet: this used to
	// win the latch outright.
	attacker.sendAudio(PCMU, silencePCM(200, 3)) // 10 in-sequence packets
	attacker.sendEvent(101, '5', 100)            // 5 event packets
	waitFor(t, "the attacker's packets counted", func() bool { return s.Stats().Foreign >= 15 })
	if got := s.Stats().Latched; got.IsValid() {
		t.Fatalf("latched to %v before the phone sent anything", got)
	}

	ph.sendAudio(PCMU, silencePCM(20, 1))
	waitFor(t, "latch to the phone", func() bool { return s.Stats().Latched == ph.addr() })

	// A steady in-sequence stream used to move the latch after 4 packets.
	attacker.sendAudio(PCMU, silencePCM(400, 4))
	attacker.sendEvent(101, '9', 100)
	waitFor(t, "the attacker's stream counted", func() bool { return s.Stats().Foreign >= 15+25 })
	if got := s.Stats().Latched; got != ph.addr() {
		t.Fatalf("the latch moved to %v", got)
	}

	// The prompts go to the phone only.
	if err := s.Play(ctxFor(t), prompt(800)); err != nil {
		t.Fatal(err)
	}
	if got := ph.readAll(200 * time.Millisecond); len(got) == 0 {
		t.Fatal("the phone heard nothing")
	}
	if got := attacker.readAll(50 * time.Millisecond); len(got) != 0 {
		t.Fatalf("the attacker heard %d packets of the prompt", len(got))
	}

	// Its digits (5, then 9) never reached the call: the phone's 1, sent
	// after them, is the first digit.
	ph.sendEvent(101, '1', 60)
	if d, err := s.NextDigit(ctxFor(t)); err != nil || d.Key != '1' {
		t.Fatalf("first digit %q %v, want the phone's 1", d.Key, err)
	}
}

func TestNothingIsSentToAnSDPAddressUntilItIsConfirmed(t *testing.T) {
	t.Parallel()
	// The caller's SIP comes from 127.0.0.1, its SDP names 127.0.0.2: we
	// would be reflecting prompts at whoever that is.
	s := newTestSession(t, Config{Signaling: loopback})
	victim := phoneOn(t, elsewhere, s.LocalAddr())
	connect(s, victim, PCMU, 101)
	if err := s.Play(ctxFor(t), prompt(400)); err != nil {
		t.Fatal(err)
	}
	if got := victim.readAll(50 * time.Millisecond); len(got) != 0 || s.Stats().Sent != 0 {
		t.Fatalf("sent %d packets to an unconfirmed SDP address (%d received there)", s.Stats().Sent, len(got))
	}
	// RTP from that address confirms it (a phone whose SIP and media
	// leave from different hosts).
	victim.sendAudio(PCMU, silencePCM(20, 1))
	waitFor(t, "latch", func() bool { return s.Stats().Latched == victim.addr() })
	if err := s.Play(ctxFor(t), prompt(160)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := victim.read(5 * time.Second); err != nil {
		t.Fatalf("after confirmation: %v", err)
	}
}

func TestRTPPortsAreNotPredictable(t *testing.T) {
	a, err := NewPortAllocator(44000, 45999)
	if err != nil {
		t.Fatal(err)
	}
	var ports []int
	for range 20 {
		l, err := a.Listen(loopback)
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Port())
		l.Close() // released at once: round-robin would still hand out +2
	}
	steps := map[int]bool{}
	for i := 1; i < len(ports); i++ {
		steps[ports[i]-ports[i-1]] = true
	}
	// Round-robin gave 20 ports 2 apart; 19 random draws from 1,000
	// repeat one step at most a few times.
	if len(steps) < 10 {
		t.Fatalf("ports %v: steps %v", ports, steps)
	}
}
