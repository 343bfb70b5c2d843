package media

import (
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// BenchmarkPlayerFrame is the player's per-frame work: transcode one 20 ms
// prompt frame and send it as RTP over a real socket.
func BenchmarkPlayerFrame(b *testing.B) {
	s := newTestSession(b, Config{})
	p := newPhone(b, s.LocalAddr())
	connect(s, p, PCMA, 101)
	ulaw := prompt(160)
	var frame [SamplesPerFrame]byte
	b.ReportAllocs()
	for b.Loop() {
		PCMA.FromUlaw(frame[:], ulaw)
		s.send(8, frame[:], SamplesPerFrame, false)
	}
}

// BenchmarkGoertzelFrame is in-band detection on one received 20 ms frame.
func BenchmarkGoertzelFrame(b *testing.B) {
	pcm := throughCodec(PCMU, tone{key: '5', level: -10, ms: 1000, snr: 20}.pcm())
	d := toneDetector{onDigit: func(rune, int) {}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.feed(pcm[i : i+SamplesPerFrame])
		i = (i + SamplesPerFrame) % (len(pcm) - SamplesPerFrame)
	}
}

// BenchmarkGoertzelQuietFrame is a frame of a pause: a key far under the
// detector's floor, as background noise is, which the energy bound lets
// through without running the filters.
func BenchmarkGoertzelQuietFrame(b *testing.B) {
	pcm := throughCodec(PCMU, tone{key: '5', level: -60, ms: 1000}.pcm())
	d := toneDetector{onDigit: func(rune, int) { b.Fatal("a digit in a pause") }}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.feed(pcm[i : i+SamplesPerFrame])
		i = (i + SamplesPerFrame) % (len(pcm) - SamplesPerFrame)
	}
}

// BenchmarkRFC4733Packet is one telephone-event packet through the whole
// receive path (framing, latching, event detector, digit stream).
func BenchmarkRFC4733Packet(b *testing.B) {
	s := newTestSession(b, Config{})
	connect(s, newPhone(b, s.LocalAddr()), PCMU, 101)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	var pkts [][]byte
	for i, p := range pressTrain(7, 1000, 5, 0, 200) {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 101, SSRC: 7, SequenceNumber: uint16(i), Timestamp: p.ts}, Payload: p.payload}
		raw, _ := pkt.Marshal()
		pkts = append(pkts, raw)
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.receive(pkts[i%len(pkts)], src, now)
		i++
		now = now.Add(frameInterval)
	}
}

// BenchmarkReceiveAudioFrame is one received G.711 packet: parse, latch
// check, decode, in-band detection.
func BenchmarkReceiveAudioFrame(b *testing.B) {
	s := newTestSession(b, Config{})
	connect(s, newPhone(b, s.LocalAddr()), PCMU, 101)
	src := netip.MustParseAddrPort("127.0.0.1:9")
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SSRC: 7}, Payload: prompt(160)}
	raw, _ := pkt.Marshal()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s.receive(raw, src, now)
	}
}
