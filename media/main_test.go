package media

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/pion/rtp"
	"go.uber.org/goleak"
)

// TestMain fails the run if any goroutine a test started outlives it:
// every session must leave its poller on Close or cancel.
func TestMain(m *testing.M) {
	if os.Getenv(phoneLoadEnv) != "" {
		phoneLoadMain()
		return
	}
	goleak.VerifyTestMain(m)
}

var loopback = netip.MustParseAddr("127.0.0.1")

// testPorts is shared by the package's tests, as one PBX shares one
// allocator between calls. Ports another test binary holds are skipped.
var testPorts = func() *PortAllocator {
	a, err := NewPortAllocator(41000, 41999)
	if err != nil {
		panic(err)
	}
	return a
}()

// newTestSession opens a session on 127.0.0.1 that ends with the test.
func newTestSession(t testing.TB, cfg Config) *Session {
	t.Helper()
	s, err := NewSession(context.Background(), testPorts, loopback, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// phone is the far end in loopback tests: a real UDP socket sending and
// receiving RTP the way a SIP phone does.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	dst  netip.AddrPort
	hdr  rtp.Header
	evTS uint32
	buf  []byte
}

func newPhone(t testing.TB, dst netip.AddrPort) *phone {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &phone{
		t: t, conn: conn, dst: dst,
		hdr: rtp.Header{Version: 2, SSRC: 0x1234abcd, SequenceNumber: 100, Timestamp: 8000},
		buf: make([]byte, 2048),
	}
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *phone) send(pt uint8, marker bool, payload []byte) {
	p.t.Helper()
	p.hdr.PayloadType, p.hdr.Marker = pt, marker
	pkt := rtp.Packet{Header: p.hdr, Payload: payload}
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, p.dst); err != nil {
		p.t.Fatal(err)
	}
	p.hdr.SequenceNumber++
	// A little spacing keeps the order and the socket buffers sane
	// without taking real time.
	time.Sleep(200 * time.Microsecond)
}

// sendAudio sends pcm as 20 ms frames of codec.
func (p *phone) sendAudio(c Codec, pcm []int16) {
	for len(pcm) > 0 {
		n := min(SamplesPerFrame, len(pcm))
		p.send(c.PayloadType(), false, c.Encode(nil, pcm[:n]))
		p.hdr.Timestamp += uint32(n)
		pcm = pcm[n:]
	}
}

// sendEvent presses key as RFC 4733 events on pt: start, updates every
// 50 ms, three end packets; audio timestamps move on meanwhile.
func (p *phone) sendEvent(pt uint8, key rune, durMs int) {
	var code byte
	for i, k := range eventKeys {
		if k == key {
			code = byte(i)
		}
	}
	ts := p.hdr.Timestamp
	save := p.hdr.Timestamp
	p.hdr.Timestamp = ts
	for d := 0; d < durMs; d += 50 {
		p.send(pt, d == 0, ev(code, false, uint16(d*8)))
	}
	for range 3 {
		p.send(pt, false, ev(code, true, uint16(durMs*8)))
	}
	p.hdr.Timestamp = save + uint32(durMs*8)
}

// read returns the next RTP packet the session sent us.
func (p *phone) read(timeout time.Duration) (rtp.Packet, netip.AddrPort, error) {
	p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		return rtp.Packet{}, from, err
	}
	var pkt rtp.Packet
	err = pkt.Unmarshal(append([]byte(nil), p.buf[:n]...))
	return pkt, from, err
}

// readAll collects packets until none comes for quiet.
func (p *phone) readAll(quiet time.Duration) []rtp.Packet {
	var out []rtp.Packet
	for {
		pkt, _, err := p.read(quiet)
		if err != nil {
			return out
		}
		out = append(out, pkt)
	}
}

// connect answers the session with this phone as the SDP address.
func connect(s *Session, p *phone, c Codec, eventPT uint8) {
	s.SetRemote(Negotiated{Codec: c, EventPT: eventPT, Remote: p.addr(), Direction: SendRecv})
}

// waitFor polls cond generously: loaded CI boxes are slow, not wrong.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}
