package media

import (
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// loopbackRelay is a relay on 127.0.0.1 with ports from lo on.
func loopbackRelay(tb testing.TB, lo int) (*PortAllocator, *Relay) {
	tb.Helper()
	ports, err := NewPortAllocator(lo, lo+19)
	if err != nil {
		tb.Fatal(err)
	}
	r, err := NewRelay(ports, netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		tb.Fatal(err)
	}
	return ports, r
}

// loopbackConn is a party's RTP socket, closed when tb ends.
func loopbackConn(tb testing.TB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

func rtpPacket(seq byte, payload string) []byte {
	p := make([]byte, 12, 12+len(payload))
	p[0], p[1], p[3] = 0x80, 0, seq
	return append(p, payload...)
}

// A phone behind NAT announces one address in its SDP but sends from
// another: the relay answers where the packets come from, passes RFC 4733
// events through untouched and ignores a third party.
func TestRelayLatchesBothWaysAndPassesEventsThrough(t *testing.T) {
	ports, r := loopbackRelay(t, 43100)
	defer r.Close()
	listen := func() *net.UDPConn { return loopbackConn(t) }
	phone, provider, stranger := listen(), listen(), listen()
	// The phone's SDP names a port nobody listens on: only latching
	// gets audio back to it.
	r.SetPeer(0, netip.MustParseAddrPort("127.0.0.1:9"))
	r.SetPeer(1, provider.LocalAddr().(*net.UDPAddr).AddrPort())
	r.Start()
	side := func(i int) *net.UDPAddr {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port(i)}
	}
	read := func(c *net.UDPConn) string {
		t.Helper()
		buf := make([]byte, 1500)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return string(buf[12:n])
	}
	phone.WriteToUDP(rtpPacket(1, "voice"), side(0))
	if got := read(provider); got != "voice" {
		t.Fatalf("provider got %q", got)
	}
	event := "\x05\x8a\x03\x20" // RFC 4733: digit 5, end, volume 10, duration 800
	provider.WriteToUDP(rtpPacket(2, event), side(1))
	if got := read(phone); got != event {
		t.Fatalf("phone got %q, want the event as sent", got)
	}
	stranger.WriteToUDP(rtpPacket(3, "spoof"), side(0))
	phone.WriteToUDP(rtpPacket(4, "after"), side(0))
	if got := read(provider); got != "after" {
		t.Fatalf("provider got %q, want the stranger's packet dropped", got)
	}
	// A packet counts as forwarded once its send returned, which may be
	// just after the provider has read it.
	rx, fw := r.Received(0)
	for deadline := time.Now().Add(5 * time.Second); fw < 2 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
		rx, fw = r.Received(0)
	}
	if rx != 2 || fw != 2 {
		t.Fatalf("phone side: received %d forwarded %d, want 2 and 2", rx, fw)
	}
	if rx, _ := r.Received(1); rx != 1 {
		t.Fatalf("provider side: received %d, want 1", rx)
	}
	r.Close()
	if ports.InUse() != 0 {
		t.Fatalf("%d ports still leased after Close", ports.InUse())
	}
}

func TestRewriteSDPPointsAudioAtUs(t *testing.T) {
	offer := "v=0\r\no=- 1 1 IN IP4 192.168.1.20\r\ns=-\r\nc=IN IP4 192.168.1.20\r\nt=0 0\r\n" +
		"m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=rtcp:4001\r\na=candidate:1 1 UDP 1 192.168.1.20 4000 typ host\r\n" +
		"m=video 4002 RTP/AVP 96\r\n"
	out, remote, err := RewriteSDP([]byte(offer), netip.MustParseAddr("203.0.113.5"), 30000)
	if err != nil {
		t.Fatal(err)
	}
	if remote.String() != "192.168.1.20:4000" {
		t.Fatalf("remote = %s", remote)
	}
	s := string(out)
	for _, want := range []string{"o=- 1 1 IN IP4 203.0.113.5\r\n", "c=IN IP4 203.0.113.5\r\n", "m=audio 30000 RTP/AVP 0 101\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "m=video 0 RTP/AVP 96\r\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("rewritten SDP lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "192.168.1.20") {
		t.Fatalf("rewritten SDP still names the private address:\n%s", s)
	}
	if _, err := ParseSDP(out); err != nil {
		t.Fatalf("rewritten SDP does not parse: %v", err)
	}
}

// BenchmarkRelayPacket is one 172-byte RTP packet (20 ms of G.711) from
// a phone through the relay to the provider: the relay's cost per packet
// per direction, two syscalls on its side.
func BenchmarkRelayPacket(b *testing.B) {
	_, r := loopbackRelay(b, 43140)
	defer r.Close()
	phone, provider := loopbackConn(b), loopbackConn(b)
	r.SetPeer(1, provider.LocalAddr().(*net.UDPAddr).AddrPort())
	r.Start()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port(0)}
	pkt := rtpPacket(1, string(make([]byte, 160)))
	buf := make([]byte, 1500)
	b.ReportAllocs()
	for b.Loop() {
		// One at a time: nothing queues, so nothing is dropped.
		phone.WriteToUDP(pkt, to)
		provider.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := provider.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
