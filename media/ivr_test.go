package media

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCollectRFC4733(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	for _, k := range "1234#" {
		p.sendEvent(101, k, 120)
	}
	got, err := s.Collect(ctxFor(t), 10, '#', 5*time.Second, 5*time.Second)
	if got != "1234" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
	if s.MethodsSeen() != RFC4733 {
		t.Fatalf("methods seen %v", s.MethodsSeen())
	}
}

func TestCollectInband(t *testing.T) {
	t.Parallel()
	for _, codec := range []Codec{PCMU, PCMA} {
		s := newTestSession(t, Config{})
		p := newPhone(t, s.LocalAddr())
		connect(s, p, codec, 0) // no telephone-event negotiated
		for i, k := range "2580" {
			p.sendAudio(codec, silencePCM(60, uint64(i)))
			p.sendAudio(codec, tone{key: k, level: -15, ms: 80, snr: 20, seed: uint64(i)}.pcm())
		}
		p.sendAudio(codec, silencePCM(60, 9))
		got, err := s.Collect(ctxFor(t), 4, '#', 5*time.Second, 5*time.Second)
		if got != "2580" || err != nil {
			t.Fatalf("%v: Collect = %q, %v", codec, got, err)
		}
	}
}

func TestDigitsCarriedTwiceComeOutOnce(t *testing.T) {
	t.Parallel()
	// The phone sends RFC 4733 and leaves the tone in the audio as well;
	// "55" must still be two digits, and "5" not four.
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	for i, k := range "556" {
		p.sendAudio(PCMU, tone{key: k, level: -10, ms: 100, snr: 25, seed: uint64(i)}.pcm())
		p.sendEvent(101, k, 100)
		p.sendAudio(PCMU, silencePCM(80, uint64(i)))
	}
	var got string
	var methods []Method
	for range 3 {
		d, err := s.NextDigit(ctxFor(t))
		if err != nil {
			t.Fatal(err)
		}
		got += string(d.Key)
		methods = append(methods, d.Method)
	}
	if got != "556" {
		t.Fatalf("digits %q", got)
	}
	// Give any duplicate time to arrive, then make sure none did.
	time.Sleep(300 * time.Millisecond)
	if n := s.digits.pending.Load(); n != 0 {
		extra, _ := s.Collect(ctxFor(t), 0, 0, time.Millisecond, time.Millisecond)
		t.Fatalf("duplicates queued: %q (first three via %v)", extra, methods)
	}
	// INFO for a press already seen in RTP is a duplicate too.
	p.sendEvent(101, '7', 100)
	if d, _ := s.NextDigit(ctxFor(t)); d.Key != '7' || d.Method != RFC4733 {
		t.Fatalf("got %q via %v", d.Key, d.Method)
	}
	if s.FeedDigit('7', INFO) {
		t.Fatal("INFO duplicate of an RTP digit accepted")
	}
	// Duplicates are dropped, but how the phone sends DTMF is still known.
	if got := s.MethodsSeen(); got != RFC4733|Inband|INFO {
		t.Fatalf("methods seen %b", got)
	}
}

func TestCollectINFO(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	go func() {
		for _, body := range []string{"Signal=4\r\nDuration=160", "Signal=2\r\nDuration=160", "Signal=#\r\nDuration=160"} {
			time.Sleep(20 * time.Millisecond)
			if d, ok := ParseINFO("application/dtmf-relay", []byte(body)); ok {
				s.FeedDigit(d, INFO)
			}
		}
	}()
	d, err := s.NextDigit(ctxFor(t))
	if err != nil || d.Key != '4' || d.Method != INFO {
		t.Fatalf("NextDigit = %+v, %v", d, err)
	}
	got, err := s.Collect(ctxFor(t), 5, '#', 5*time.Second, 5*time.Second)
	if got != "2" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
}

func TestCollectEndings(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	feed := func(keys string) {
		for _, k := range keys {
			// Presses reported by one method are never merged, so equal
			// keys need no spacing.
			s.FeedDigit(k, INFO)
		}
	}
	ctx := ctxFor(t)

	// Nothing typed: the first-digit timeout says so.
	if got, err := s.Collect(ctx, 4, '#', 200*time.Millisecond, time.Second); got != "" || !errors.Is(err, ErrNoInput) {
		t.Fatalf("no input: %q, %v", got, err)
	}
	// A lone terminator is an empty entry.
	feed("#")
	if got, err := s.Collect(ctx, 4, '#', 5*time.Second, time.Second); got != "" || err != nil {
		t.Fatalf("lone #: %q, %v", got, err)
	}
	// The caller stops typing: the entry stands after the inter-digit timeout.
	feed("12")
	if got, err := s.Collect(ctx, 10, '#', 5*time.Second, 300*time.Millisecond); got != "12" || err != nil {
		t.Fatalf("inter-digit timeout: %q, %v", got, err)
	}
	// Max digits, then "#" out of habit: swallowed, the next step is clean.
	feed("1234#")
	if got, err := s.Collect(ctx, 4, '#', 5*time.Second, 5*time.Second); got != "1234" || err != nil {
		t.Fatalf("max digits: %q, %v", got, err)
	}
	feed("9")
	if got, err := s.Collect(ctx, 1, '#', 5*time.Second, 5*time.Second); got != "9" || err != nil {
		t.Fatalf("after swallowed #: %q, %v", got, err)
	}
	// The habit-# can also come after Collect returned.
	done := make(chan struct{})
	go func() { feed("55"); close(done) }()
	if got, err := s.Collect(ctx, 2, '#', 5*time.Second, 5*time.Second); got != "55" || err != nil {
		t.Fatalf("max digits: %q, %v", got, err)
	}
	<-done
	feed("#8")
	if got, err := s.Collect(ctx, 1, '#', 5*time.Second, 5*time.Second); got != "8" || err != nil {
		t.Fatalf("late # not swallowed: %q, %v", got, err)
	}
	// Digits after the terminator wait for the next step.
	feed("7#3")
	if got, _ := s.Collect(ctx, 5, '#', 5*time.Second, 5*time.Second); got != "7" {
		t.Fatalf("first entry %q", got)
	}
	if got, _ := s.Collect(ctx, 1, '#', 5*time.Second, 5*time.Second); got != "3" {
		t.Fatalf("second entry %q", got)
	}
	// FlushDigits drops type-ahead.
	feed("66")
	s.FlushDigits()
	if _, err := s.Collect(ctx, 1, '#', 100*time.Millisecond, 0); !errors.Is(err, ErrNoInput) {
		t.Fatalf("after flush: %v", err)
	}
	// Hang-up mid-entry returns what was typed.
	feed("4")
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(100*time.Millisecond, cancel)
	if got, err := s.Collect(cctx, 5, '#', 5*time.Second, 5*time.Second); got != "4" || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %q, %v", got, err)
	}
	s.Close()
	if _, err := s.Collect(ctx, 5, '#', 5*time.Second, 5*time.Second); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestEchoReturnsCallerAudioUnderOurStream(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)

	ctx, cancel := context.WithCancel(ctxFor(t))
	done := make(chan error, 1)
	go func() { done <- s.Echo(ctx) }()
	waitFor(t, "echo on", s.echoOn.Load)

	var sent [][]byte
	for i := range 10 {
		frame := PCMU.Encode(nil, sweep(160 + i)[i:])
		sent = append(sent, frame)
		p.send(0, i == 0, frame)
		p.hdr.Timestamp += 160
	}
	pkts := p.readAll(500 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Echo returned %v", err)
	}
	if len(pkts) != len(sent) {
		t.Fatalf("%d echoed of %d", len(pkts), len(sent))
	}
	for i, pkt := range pkts {
		if string(pkt.Payload) != string(sent[i]) {
			t.Fatalf("frame %d not echoed as sent", i)
		}
		if pkt.SSRC == p.hdr.SSRC || pkt.SSRC != pkts[0].SSRC {
			t.Fatalf("frame %d SSRC %x (phone's is %x)", i, pkt.SSRC, p.hdr.SSRC)
		}
		if pkt.SequenceNumber != pkts[0].SequenceNumber+uint16(i) || pkt.Timestamp != pkts[0].Timestamp+uint32(160*i) || pkt.Marker != (i == 0) {
			t.Fatalf("frame %d: seq %d ts %d marker %v", i, pkt.SequenceNumber, pkt.Timestamp, pkt.Marker)
		}
	}
	// Echo off: nothing comes back.
	p.send(0, false, sent[0])
	if extra := p.readAll(200 * time.Millisecond); len(extra) != 0 {
		t.Fatalf("%d packets echoed after Echo ended", len(extra))
	}
}

func TestCollectInbandThroughLossAndReordering(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 0)
	// Frames of a 200 ms "3" and a 200 ms "6": one frame lost in each,
	// two swapped; a lost frame is missing audio, not a gap in the tone.
	frames := func(k rune, seed uint64) [][]byte {
		pcm := append(tone{key: k, level: -12, ms: 200, snr: 20, seed: seed}.pcm(), silencePCM(100, seed)...)
		var out [][]byte
		for i := 0; i < len(pcm); i += SamplesPerFrame {
			out = append(out, PCMU.Encode(nil, pcm[i:i+SamplesPerFrame]))
		}
		return out
	}
	for n, k := range "36" {
		f := frames(k, uint64(n))
		f[3], f[4] = f[4], f[3]
		f = append(f[:6], f[7:]...)
		for _, fr := range f {
			p.send(0, false, fr)
			p.hdr.Timestamp += SamplesPerFrame
		}
	}
	got, err := s.Collect(ctxFor(t), 3, 0, 5*time.Second, time.Second)
	if got != "36" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
}

func TestTalkOffOverLoopback(t *testing.T) {
	t.Parallel()
	// Every project prompt, sent by a phone over a real socket as received
	// audio, then one real key press: only that key comes out.
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	for _, ulaw := range projectPrompts() {
		p.sendAudio(PCMU, PCMU.Decode(nil, ulaw))
	}
	p.sendEvent(101, '5', 100)
	got, err := s.Collect(ctxFor(t), 1, 0, 10*time.Second, 0)
	if got != "5" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
	if n := s.digits.pending.Load(); n != 0 {
		t.Fatalf("%d more digits", n)
	}
}
