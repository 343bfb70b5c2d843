package media

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"
)

// The parsers below read what any host on the network sends: SDP in an
// INVITE, RTP datagrams on an open port, SIP INFO bodies. `make fuzz`
// runs each for FUZZTIME; the seeds are the tests' own inputs.

func sdpSeeds(f *testing.F) {
	for _, s := range [][]byte{baresipOffer, linphoneOffer, sippOffer, sippBasicOffer, deskPhoneOffer,
		[]byte("v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 0 RTP/AVP 0\r\n"),
		[]byte("v=0\r\nc=IN IP6 ::1\r\nm=audio 9 RTP/SAVP 0\r\nm=audio 7 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"),
	} {
		f.Add(s)
	}
}

// FuzzNegotiate: any offer either is refused with an error or gives an
// answer that we can parse back, with a G.711 codec and one m= line per
// offered stream; renegotiating with the same offer agrees.
func FuzzNegotiate(f *testing.F) {
	sdpSeeds(f)
	f.Fuzz(func(t *testing.T, offer []byte) {
		d, perr := ParseSDP(offer)
		ans, err := Negotiate(offer)
		if err != nil {
			return
		}
		if perr != nil {
			t.Fatalf("negotiated an offer that does not parse: %v", perr)
		}
		if ans.Codec != PCMU && ans.Codec != PCMA {
			t.Fatalf("answered codec %v", ans.Codec)
		}
		back, err := ParseSDP(ans.Marshal("127.0.0.1", 10000))
		if err != nil {
			t.Fatalf("our answer does not parse: %v", err)
		}
		if len(back.Media) != len(d.Media) {
			t.Fatalf("answer has %d m= lines for %d offered", len(back.Media), len(d.Media))
		}
		again, err := ans.Renegotiate(offer)
		if err != nil || again.Codec != ans.Codec {
			t.Fatalf("renegotiating the same offer: %v, %v", again, err)
		}
	})
}

// FuzzOfferAccept: any answer to our own offer is accepted or refused,
// never a panic, and an accepted one names a G.711 codec.
func FuzzOfferAccept(f *testing.F) {
	sdpSeeds(f)
	f.Fuzz(func(t *testing.T, answer []byte) {
		n, err := NewOffer().Accept(answer)
		if err == nil && n.Codec != PCMU && n.Codec != PCMA {
			t.Fatalf("accepted codec %v", n.Codec)
		}
	})
}

// FuzzRFC4733Events feeds a run of telephone-event payloads (4 bytes
// each, a timestamp in front) to the detector: every digit it reports is
// a DTMF key, over a press that does not end before it starts.
func FuzzRFC4733Events(f *testing.F) {
	seed := func(ps ...[]byte) []byte {
		var b []byte
		for i, p := range ps {
			b = binary.BigEndian.AppendUint32(b, uint32(8000+160*(i/4)))
			b = append(b, p...)
		}
		return b
	}
	f.Add(seed(ev(1, false, 0), ev(1, false, 400), ev(1, true, 800), ev(1, true, 800)))
	f.Add(seed(ev(11, true, 800), ev(10, false, 160), ev(16, true, 0), ev(5, false, 0)))
	f.Add([]byte{0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, run []byte) {
		var d eventDetector
		var ts uint32
		d.emit = func(key rune, start, end time.Time) {
			if !validKey(key) {
				t.Fatalf("reported %q", key)
			}
			if end.Before(start) {
				t.Fatalf("a press that ends before it starts")
			}
		}
		now := time.Unix(0, 0)
		for len(run) >= 8 {
			ts = binary.BigEndian.Uint32(run)
			d.packet(0x1234, ts, run[4:8], now)
			d.tick(now)
			now = now.Add(20 * time.Millisecond)
			run = run[8:]
		}
		d.packet(0x1234, ts, run, now) // a short tail
	})
}

// FuzzReceiveDatagram sends arbitrary datagrams through a live session's
// receive path, as they would arrive on its open RTP port: no panic, and
// nothing is counted twice.
func FuzzReceiveDatagram(f *testing.F) {
	hdr := func(pt byte, payload ...byte) []byte {
		return append([]byte{0x80, pt, 0, 1, 0, 0, 0, 160, 0, 0, 0x12, 0x34}, payload...)
	}
	f.Add(hdr(0, make([]byte, 160)...))
	f.Add(hdr(101, ev(5, true, 800)...))
	f.Add(hdr(8|0x80, 1, 2, 3))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0xff, 0xff})
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := NewSession(ctx, testPorts, loopback, Config{Signaling: loopback})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { cancel(); s.Close() })
	s.SetRemote(Negotiated{Codec: PCMU, EventPT: 101, Remote: netip.MustParseAddrPort("127.0.0.1:9"), Direction: SendRecv})
	src := netip.MustParseAddrPort("127.0.0.1:9")
	now := time.Now()
	// receive belongs to the session's read goroutine, which sits idle
	// here: nothing is sent to the port, so calling it directly is safe.
	f.Fuzz(func(t *testing.T, b []byte) {
		before := s.Stats()
		now = now.Add(20 * time.Millisecond)
		s.receive(b, src, now)
		after := s.Stats()
		if d := (after.Received + after.Ignored + after.Foreign) - (before.Received + before.Ignored + before.Foreign); d != 1 {
			t.Fatalf("one datagram counted %d times", d)
		}
		s.FlushDigits()
	})
}

// FuzzParseINFO: a SIP INFO body gives a DTMF key or nothing.
func FuzzParseINFO(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf-relay; charset=utf-8", []byte("signal= 11\nDuration=100"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf", []byte("16"))
	f.Add("text/plain", []byte("Signal=1"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		key, ok := ParseINFO(ct, body)
		if ok && !validKey(key) {
			t.Fatalf("ParseINFO(%q, %q) = %q", ct, body, key)
		}
		if !ok && key != 0 {
			t.Fatalf("a key %q with ok false", key)
		}
	})
}
