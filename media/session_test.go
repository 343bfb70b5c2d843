package media

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestSymmetricRTPLatching(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	sdpAddr := newPhone(t, s.LocalAddr()) // where the SDP said to send
	natted := newPhone(t, s.LocalAddr())  // where the phone's packets really come from
	connect(s, sdpAddr, PCMU, 101)

	if err := s.Play(ctxFor(t), prompt(160)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sdpAddr.read(5 * time.Second); err != nil {
		t.Fatalf("before any RTP arrives we send to the SDP address: %v", err)
	}

	natted.sendAudio(PCMU, silencePCM(20, 1))
	waitFor(t, "latch", func() bool { return s.Stats().Latched == natted.addr() })
	if err := s.Play(ctxFor(t), prompt(160)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := natted.read(5 * time.Second); err != nil {
		t.Fatalf("after latching we send to the packets' source: %v", err)
	}
	if pkts := sdpAddr.readAll(100 * time.Millisecond); len(pkts) != 0 {
		t.Fatal("still sending to the SDP address")
	}

	// The phone changes SSRC from the same address: still the phone.
	natted.hdr.SSRC++
	natted.sendEvent(101, '1', 60)
	if d, err := s.NextDigit(ctxFor(t)); err != nil || d.Key != '1' {
		t.Fatalf("digit after SSRC change: %q %v", d.Key, err)
	}

	// One stray packet from elsewhere cannot steal the stream...
	stray := newPhone(t, s.LocalAddr())
	stray.send(0, false, make([]byte, 160))
	waitFor(t, "stray counted", func() bool { return s.Stats().Foreign >= 1 })
	if got := s.Stats().Latched; got != natted.addr() {
		t.Fatalf("stray packet moved the latch to %v", got)
	}
	// ...but a phone whose NAT binding moved is followed.
	moved := newPhone(t, s.LocalAddr())
	moved.hdr.SSRC = 0x5555
	moved.sendAudio(PCMU, silencePCM(100, 2))
	waitFor(t, "re-latch", func() bool { return s.Stats().Latched == moved.addr() })

	// A re-INVITE to a new address is used at once and learned again.
	reinvite := newPhone(t, s.LocalAddr())
	connect(s, reinvite, PCMU, 101)
	if err := s.Play(ctxFor(t), prompt(160)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := reinvite.read(5 * time.Second); err != nil {
		t.Fatalf("after re-INVITE: %v", err)
	}
}

func TestSurvivesGarbageAndFlood(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	p.sendAudio(PCMU, silencePCM(20, 1)) // latch to the phone
	waitFor(t, "latch", func() bool { return s.Stats().Latched == p.addr() })

	attacker := newPhone(t, s.LocalAddr())
	rng := rand.New(rand.NewPCG(1, 2))
	valid := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 99}, Payload: make([]byte, 160)}
	junk := func(i int) []byte {
		switch i % 8 {
		case 0: // random bytes of random size
			b := make([]byte, rng.IntN(1500))
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			return b
		case 1: // truncated RTP header
			b, _ := valid.Marshal()
			return b[:rng.IntN(12)]
		case 2: // CSRC count promising more than there is
			b, _ := valid.Marshal()
			b[0] |= 0x0f
			return b[:20]
		case 3: // extension length past the end
			b, _ := valid.Marshal()
			b[0] |= 0x10
			return append(b[:12], 0xbe, 0xde, 0xff, 0xff)
		case 4: // padding longer than the packet
			b, _ := valid.Marshal()
			b[0] |= 0x20
			b[len(b)-1] = 255
			return b
		case 5: // RTCP sender report on the RTP port
			return []byte{0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
		case 6: // RTP with random SSRC and sequence: never 4 in a row
			valid.SSRC, valid.SequenceNumber = rng.Uint32(), uint16(rng.Uint32())
			b, _ := valid.Marshal()
			return b
		default: // a telephone-event that is truncated
			return []byte{0x80, 101, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 5}
		}
	}
	total := 0
	for i := 0; total < 10<<20; i++ {
		b := junk(i)
		total += len(b)
		attacker.conn.WriteToUDPAddrPort(b, s.LocalAddr())
		if i%200 == 0 {
			time.Sleep(time.Millisecond) // let the reader breathe, as a real link would
		}
	}
	// Still the phone's session: latched where it was, digits still heard.
	if got := s.Stats().Latched; got != p.addr() {
		t.Fatalf("flood moved the latch to %v", got)
	}
	p.sendEvent(101, '8', 100)
	if got, err := s.Collect(ctxFor(t), 1, 0, 10*time.Second, 0); got != "8" || err != nil {
		t.Fatalf("after the flood: %q, %v", got, err)
	}
	st := s.Stats()
	t.Logf("flood of %d MB: %d ignored, %d foreign", total>>20, st.Ignored, st.Foreign)
	if st.Ignored == 0 || st.Foreign == 0 {
		t.Fatalf("flood not seen: %+v", st)
	}
}

// TestReceivePathNeverPanics throws arbitrary datagrams at the receive path
// directly, faster and nastier than the socket allows.
func TestReceivePathNeverPanics(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	connect(s, newPhone(t, s.LocalAddr()), PCMA, 101)
	rng := rand.New(rand.NewPCG(3, 4))
	src := netip.MustParseAddrPort("127.0.0.1:9")
	b := make([]byte, 2048)
	for i := range 100000 {
		n := rng.IntN(200)
		for j := range n {
			b[j] = byte(rng.Uint32())
		}
		if n > 0 && i%2 == 0 {
			b[0] = 0x80 | b[0]&0x3f // version 2, keep the rest random
		}
		if n > 1 && i%4 == 0 {
			b[1] = b[1]&0x80 | []byte{0, 8, 101}[i%3]
		}
		s.receive(b[:n], src, time.Now())
	}
}

func TestTalkOffOverReceivedRTP(t *testing.T) {
	t.Parallel()
	// Prompts fed as received audio through the full receive path: the
	// only audio the detectors ever see is what the phone sends.
	s := newTestSession(t, Config{})
	connect(s, newPhone(t, s.LocalAddr()), PCMU, 101)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, SSRC: 7}}
	now := time.Now()
	for name, ulaw := range speechCorpus(t) {
		for _, codec := range []Codec{PCMU, PCMA} {
			pkt.PayloadType = codec.PayloadType()
			for off := 0; off+160 <= len(ulaw); off += 160 {
				pkt.Payload = make([]byte, 160)
				codec.FromUlaw(pkt.Payload, ulaw[off:off+160])
				b, _ := pkt.Marshal()
				now = now.Add(frameInterval)
				s.receive(b, src, now)
				pkt.SequenceNumber++
				pkt.Timestamp += 160
			}
			if n := s.digits.pending.Load(); n != 0 {
				got, _ := s.Collect(context.Background(), 0, 0, time.Millisecond, time.Millisecond)
				t.Fatalf("%s via %v: false digits %q", name, codec, got)
			}
		}
	}
}

func TestWeNeverHearOurOwnPrompts(t *testing.T) {
	t.Parallel()
	// Playing DTMF-like audio ourselves must not produce digits: detection
	// runs on received audio only.
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	tones := PCMU.Encode(nil, tone{key: '5', level: -6, ms: 200}.pcm())
	if err := s.PlayNoBarge(ctxFor(t), tones); err != nil {
		t.Fatal(err)
	}
	if n := s.digits.pending.Load(); n != 0 {
		t.Fatalf("%d digits detected in our own audio", n)
	}
}

func TestSessionEndsWithItsContext(t *testing.T) {
	t.Parallel()
	a, err := NewPortAllocator(43400, 43409)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := NewSession(ctx, a, loopback, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if a.InUse() != 1 {
		t.Fatalf("%d ports in use", a.InUse())
	}
	cancel()
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("session outlived its context")
	}
	waitFor(t, "port release", func() bool { return a.InUse() == 0 })
	if err := s.Close(); err != nil {
		t.Fatal(err) // Close after the context ended is harmless
	}
}
