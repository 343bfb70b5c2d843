package main

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// capture builds a classic pcap (Ethernet, IPv4/UDP) of RTP headers.
type capture struct{ b bytes.Buffer }

func newCapture() *capture {
	c := &capture{}
	h := make([]byte, 24)
	binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond stamps
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 65535)
	binary.LittleEndian.PutUint32(h[20:], 1)
	c.b.Write(h)
	return c
}

func (c *capture) add(at time.Duration, src, dst netip.AddrPort, ssrc uint32, seq uint16) {
	rtp := make([]byte, 12+160)
	rtp[0] = 0x80
	binary.BigEndian.PutUint16(rtp[2:], seq)
	binary.BigEndian.PutUint32(rtp[4:], uint32(seq)*160)
	binary.BigEndian.PutUint32(rtp[8:], ssrc)
	frame := make([]byte, 14+20+8)
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0], ip[9] = 0x45, 17
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(rtp)))
	s, d := src.Addr().As4(), dst.Addr().As4()
	copy(ip[12:], s[:])
	copy(ip[16:], d[:])
	udp := ip[20:]
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(rtp)))
	frame = append(frame, rtp...)
	rec := make([]byte, 16)
	binary.LittleEndian.PutUint32(rec[0:], uint32(at/time.Second))
	binary.LittleEndian.PutUint32(rec[4:], uint32(at%time.Second))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	c.b.Write(rec)
	c.b.Write(frame)
}

// Two relayed calls play the very same streams, both ways (one SSRC and
// the same sequence numbers everywhere, as SIPp playing one pcap at both
// ends of every call does), the second 10
// ms after the first; the relay takes 1 ms with each packet, except 30
// ms for three packets of the first call toward the provider (by then
// the second call's copies have arrived: a nearest-arrival guess pairs
// them with the wrong call), and it never forwards one packet of the
// first call toward the phone. The analysis must pair each relay port
// with its own call's other port and count exactly those delays and
// that loss.
func TestRelayDelayPerDirection(t *testing.T) {
	phone := netip.MustParseAddrPort("127.0.0.1:7000")
	prov := netip.MustParseAddrPort("127.0.0.2:8000")
	type call struct {
		a, b  uint16 // relay ports facing the phone and the provider
		start time.Duration
	}
	calls := []call{{26000, 26002, time.Second}, {26004, 26006, time.Second + 10*time.Millisecond}}
	c := newCapture()
	relay := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), p) }
	for i, cl := range calls {
		for seq := uint16(0); seq < 100; seq++ {
			at := cl.start + time.Duration(seq)*20*time.Millisecond
			// phone -> relay a -> (relay b) -> provider
			c.add(at, phone, relay(cl.a), 1, seq)
			delay := time.Millisecond
			if i == 0 && seq >= 50 && seq < 53 {
				delay = 30 * time.Millisecond
			}
			c.add(at+delay, relay(cl.b), prov, 1, seq)
			// provider -> relay b -> (relay a) -> phone
			c.add(at+5*time.Millisecond, prov, relay(cl.b), 1, seq)
			if !(i == 0 && seq == 70) {
				c.add(at+6*time.Millisecond, relay(cl.a), phone, 1, seq)
			}
		}
	}
	// Capture order is time order.
	path := filepath.Join(t.TempDir(), "relay.pcap")
	if err := os.WriteFile(path, sortCapture(t, c.b.Bytes()), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := analyseRelay(path, 26000, 26999, 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.pairs != 4 || r.mutual != 4 {
		t.Fatalf("pairs %d, mutual %d: want the 4 relay ports each fed by its call's other port", r.pairs, r.mutual)
	}
	toProv, toPhone := r.dirs[prov.Addr()], r.dirs[phone.Addr()]
	if toProv == nil || toPhone == nil {
		t.Fatalf("directions %v: want one toward each party", r.dirs)
	}
	if toProv.packets != 200 || toProv.late != 3 || toProv.lost != 0 || toProv.unmatched != 0 {
		t.Errorf("toward the provider: %+v, want 200 packets, 3 late, none lost", *toProv)
	}
	if toPhone.packets != 199 || toPhone.late != 0 || toPhone.lost != 1 || toPhone.unmatched != 0 {
		t.Errorf("toward the phone: %+v, want 199 packets, none late, 1 lost", *toPhone)
	}
	var out strings.Builder
	r.print(&out, 5*time.Millisecond)
	if !strings.Contains(out.String(), "to=127.0.0.2 packets=200 matched=200 unmatched=0 lost=0 late=3 late_pct=1.500") {
		t.Errorf("output:\n%s", out.String())
	}
}

// sortCapture orders a capture's records by time, as a real capture is.
func sortCapture(t *testing.T, b []byte) []byte {
	t.Helper()
	type rec struct {
		at  uint64
		raw []byte
	}
	var recs []rec
	for off := 24; off < len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+8:]))
		at := uint64(binary.LittleEndian.Uint32(b[off:]))*1e9 + uint64(binary.LittleEndian.Uint32(b[off+4:]))
		recs = append(recs, rec{at, b[off : off+16+n]})
		off += 16 + n
	}
	for i := 1; i < len(recs); i++ { // insertion sort: stable, and the input is nearly sorted
		for j := i; j > 0 && recs[j].at < recs[j-1].at; j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
	out := append([]byte(nil), b[:24]...)
	for _, r := range recs {
		out = append(out, r.raw...)
	}
	return out
}
