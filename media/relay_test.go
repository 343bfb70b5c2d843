package media

import (
	"fmt"
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

// loopbackPair is a party's RTP socket and its RTCP socket on the port
// above, closed when tb ends.
func loopbackPair(tb testing.TB) (rtpConn, rtcpConn *net.UDPConn) {
	tb.Helper()
	for range 50 {
		c := loopbackConn(tb)
		port := c.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			continue
		}
		r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err != nil {
			continue
		}
		tb.Cleanup(func() { r.Close() })
		return c, r
	}
	tb.Fatal("no free port pair for RTP and RTCP")
	return nil, nil
}

// rtcpPacket is a receiver report with no report blocks from ssrc.
func rtcpPacket(ssrc byte) []byte {
	return []byte{0x80, 201, 0, 1, 0, 0, 0, ssrc}
}

func readFrom(t *testing.T, c *net.UDPConn) ([]byte, *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], from
}

// RTCP crosses the relay on the ports above the RTP ports, both ways:
// it reaches the provider at the port above its RTP port, from the port
// above the relay's, and comes back to where the phone's RTCP came from
// (latched, as the phone's NAT would need); a stranger's RTCP and RTP
// sent to the RTCP port are dropped.
func TestRelayPassesRTCPOnThePortAbove(t *testing.T) {
	_, r := loopbackRelay(t, 43200)
	defer r.Close()
	if !r.HasRTCP(0) || !r.HasRTCP(1) {
		t.Fatal("relay without RTCP ports")
	}
	phone := loopbackConn(t)
	provRTP, provRTCP := loopbackPair(t)
	stranger := loopbackConn(t)
	r.SetPeer(0, netip.MustParseAddrPort("127.0.0.1:9")) // the phone's SDP: nobody there
	r.SetPeer(1, provRTP.LocalAddr().(*net.UDPAddr).AddrPort())
	r.Start()
	rtcpPort := func(side int) *net.UDPAddr {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port(side) + 1}
	}
	stranger.WriteToUDP(rtpPacket(1, "not rtcp"), rtcpPort(0)) // RTP on the RTCP port: dropped, and no latch
	phone.WriteToUDP(rtcpPacket(1), rtcpPort(0))
	got, from := readFrom(t, provRTCP)
	if string(got) != string(rtcpPacket(1)) || from.Port != r.Port(1)+1 {
		t.Fatalf("provider got %x from port %d, want the phone's report from %d", got, from.Port, r.Port(1)+1)
	}
	provRTCP.WriteToUDP(rtcpPacket(2), rtcpPort(1))
	if got, from := readFrom(t, phone); string(got) != string(rtcpPacket(2)) || from.Port != r.Port(0)+1 {
		t.Fatalf("phone got %x from port %d, want the provider's report from %d", got, from.Port, r.Port(0)+1)
	}
	stranger.WriteToUDP(rtcpPacket(3), rtcpPort(0))
	phone.WriteToUDP(rtcpPacket(4), rtcpPort(0))
	if got, _ := readFrom(t, provRTCP); string(got) != string(rtcpPacket(4)) {
		t.Fatalf("provider got %x, want the stranger's report dropped", got)
	}
	rx, _ := r.ReceivedRTCP(0)
	if rx != 2 {
		t.Fatalf("phone side RTCP received %d, want 2", rx)
	}
	if rx, _ := r.Received(0); rx != 0 {
		t.Fatalf("RTCP counted as RTP: %d", rx)
	}
}

// A party that names its RTCP port (a=rtcp) gets RTCP there; one that
// multiplexes RTCP on its RTP port (rtcp-mux) has it relayed with RTP.
func TestRelayRTCPToTheNamedPortAndMultiplexed(t *testing.T) {
	_, r := loopbackRelay(t, 43300)
	defer r.Close()
	phone, prov, provRTCP := loopbackConn(t), loopbackConn(t), loopbackConn(t)
	provAddr := prov.LocalAddr().(*net.UDPAddr).AddrPort()
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\na=rtcp:%d IN IP4 127.0.0.1\r\n",
		provAddr.Port(), provRTCP.LocalAddr().(*net.UDPAddr).Port)
	rtcp, ok := ExplicitRTCP([]byte(sdp), provAddr)
	if !ok || rtcp != provRTCP.LocalAddr().(*net.UDPAddr).AddrPort() {
		t.Fatalf("ExplicitRTCP = %v %v", rtcp, ok)
	}
	r.SetPeer(1, provAddr)
	r.SetRTCPPeer(1, rtcp)
	r.Start()
	phone.WriteToUDP(rtcpPacket(5), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port(0) + 1})
	if got, _ := readFrom(t, provRTCP); string(got) != string(rtcpPacket(5)) {
		t.Fatalf("provider's a=rtcp port got %x", got)
	}
	// rtcp-mux: the report goes to the RTP port and comes out of the
	// other RTP port.
	phone.WriteToUDP(rtcpPacket(6), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: r.Port(0)})
	if got, _ := readFrom(t, prov); string(got) != string(rtcpPacket(6)) {
		t.Fatalf("provider's RTP port got %x, want the multiplexed report", got)
	}
	if _, ok := ExplicitRTCP([]byte("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\n"), provAddr); ok {
		t.Fatal("rtcp-mux taken for an a=rtcp port")
	}
}
