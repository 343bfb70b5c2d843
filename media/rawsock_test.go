package media

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// TestSessionsOnIPv6AndOnTheDualStackAddress: a session's socket is opened
// by hand (rawsock_linux.go), so the families net.ListenUDP used to sort
// out are ours to get right: an IPv6 phone on an IPv6 address, and an
// IPv4 phone reaching a session bound on "::", whose answers go out
// v4-mapped.
func TestSessionsOnIPv6AndOnTheDualStackAddress(t *testing.T) {
	t.Parallel()
	v6 := netip.MustParseAddr("::1")
	probe, err := net.ListenUDP("udp6", net.UDPAddrFromAddrPort(netip.AddrPortFrom(v6, 0)))
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	probe.Close()

	for _, tc := range []struct {
		name        string
		bind, phone netip.Addr
	}{
		{"IPv6 phone on ::1", v6, v6},
		{"IPv4 phone on ::", netip.IPv6Unspecified(), loopback},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSession(context.Background(), testPorts, tc.bind, Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(tc.phone, 0)))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			to := netip.AddrPortFrom(tc.phone, uint16(s.Port()))
			p := &phone{t: t, conn: conn, dst: to, buf: make([]byte, 2048),
				hdr: rtp.Header{Version: 2, SSRC: 0x600d, SequenceNumber: 1, Timestamp: 8000}}
			s.SetRemote(Negotiated{Codec: PCMU, EventPT: 101, Remote: p.addr(), Direction: SendRecv})

			p.sendEvent(101, '7', 100)
			if got, err := s.Collect(ctxFor(t), 1, 0, 10*time.Second, 0); got != "7" || err != nil {
				t.Fatalf("digit over %s: %q, %v", tc.name, got, err)
			}
			if got := s.Stats().Latched; got != p.addr() {
				t.Fatalf("latched to %v, want the phone at %v", got, p.addr())
			}
			if err := s.Play(ctxFor(t), prompt(400)); err != nil {
				t.Fatal(err)
			}
			pkt, from, err := p.read(5 * time.Second)
			if err != nil {
				t.Fatalf("no prompt reached the phone: %v", err)
			}
			if from.Addr().Unmap() != tc.phone || from.Port() != uint16(s.Port()) || pkt.SSRC == 0 {
				t.Fatalf("prompt from %v (SSRC %#x), want from port %d of %v", from, pkt.SSRC, s.Port(), tc.phone)
			}
		})
	}
}
