package media

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
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

// BenchmarkPlayer1000Sessions plays a 2 s prompt on 1,000 sessions at once,
// each on its own port and paced by its own deadline loop, as an IVR under
// full load. It reports the share of frames sent more than 5 ms late and
// the CPU the process used per call.
func BenchmarkPlayer1000Sessions(b *testing.B) {
	const calls = 1000
	ports, err := NewPortAllocator(44000, 47999)
	if err != nil {
		b.Fatal(err)
	}
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	sink.SetReadBuffer(4 << 20)
	var received atomic.Uint64
	var sinkDone sync.WaitGroup
	sinkDone.Go(func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
			received.Add(1)
		}
	})
	defer func() { sink.Close(); sinkDone.Wait() }()

	sessions := make([]*Session, calls)
	for i := range sessions {
		s, err := NewSession(context.Background(), ports, loopback, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		s.SetRemote(Negotiated{Codec: PCMU, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Direction: SendRecv})
		sessions[i] = s
	}
	ulaw := prompt(2 * 8000)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for i, s := range sessions {
			// Calls start at scattered instants, as real ones do; starting
			// all 1,000 in the same microsecond lines up every deadline.
			offset := time.Duration(i%20)*time.Millisecond + time.Duration(i/20)*20*time.Microsecond
			wg.Go(func() {
				time.Sleep(offset)
				s.Play(context.Background(), ulaw)
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	var sent, late uint64
	for _, s := range sessions {
		st := s.Stats()
		sent += st.Sent
		late += st.Late
	}
	b.ReportMetric(100*float64(late)/float64(sent), "%late>5ms")
	b.ReportMetric(float64(sent)/float64(b.N), "frames/op")
	// Both cores fully busy would be 200%.
	b.ReportMetric(100*cpu.Seconds()/b.Elapsed().Seconds(), "%cpu")
}
