package media

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// prompt is a recognisable µ-law prompt of n samples.
func prompt(n int) []byte {
	return PCMU.Encode(nil, sweep(n))
}

func TestPlaySendsPacedFramesWithSequenceTimestampAndMarker(t *testing.T) {
	t.Parallel()
	for _, codec := range []Codec{PCMU, PCMA} {
		s := newTestSession(t, Config{})
		p := newPhone(t, s.LocalAddr())
		connect(s, p, codec, 101)

		// Two prompts that do not end on a frame boundary: 25 frames of
		// audio, the last one padded with silence.
		a, b := prompt(1900), prompt(2000)
		start := time.Now()
		if err := s.Play(ctxFor(t), a, b); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		pkts := p.readAll(500 * time.Millisecond)
		if len(pkts) != 25 {
			t.Fatalf("%v: %d packets for 3900 samples, want 25", codec, len(pkts))
		}
		// Paced, not burst: 25 frames cannot go out faster than 24 intervals.
		if elapsed < 24*frameInterval {
			t.Fatalf("%v: 25 frames played in %v", codec, elapsed)
		}
		want := append(append([]byte{}, a...), b...)
		want = append(want, bytes.Repeat([]byte{PCMU.Silence()}, 25*160-len(want))...)
		if codec == PCMA {
			want = UlawToAlaw(want)
		}
		var got []byte
		for i, pkt := range pkts {
			h := pkt.Header
			if h.PayloadType != codec.PayloadType() || h.SSRC != pkts[0].SSRC || len(pkt.Payload) != 160 {
				t.Fatalf("%v packet %d: pt %d ssrc %x len %d", codec, i, h.PayloadType, h.SSRC, len(pkt.Payload))
			}
			if h.SequenceNumber != pkts[0].SequenceNumber+uint16(i) || h.Timestamp != pkts[0].Timestamp+uint32(160*i) {
				t.Fatalf("%v packet %d: seq %d ts %d after seq %d ts %d", codec, i, h.SequenceNumber, h.Timestamp, pkts[0].SequenceNumber, pkts[0].Timestamp)
			}
			if h.Marker != (i == 0) {
				t.Fatalf("%v packet %d: marker %v", codec, i, h.Marker)
			}
			got = append(got, pkt.Payload...)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: payload differs from the prompts", codec)
		}

		// After silence, the next prompt is a new talkspurt: marker again,
		// sequence continues, timestamp moved on by at least the silence.
		last := pkts[len(pkts)-1]
		time.Sleep(100 * time.Millisecond)
		if err := s.Play(ctxFor(t), prompt(160)); err != nil {
			t.Fatal(err)
		}
		next, _, err := p.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !next.Marker || next.SequenceNumber != last.SequenceNumber+1 || next.Timestamp-last.Timestamp < 160+800 {
			t.Fatalf("%v new talkspurt: marker %v seq %d (last %d) ts step %d", codec, next.Marker, next.SequenceNumber, last.SequenceNumber, next.Timestamp-last.Timestamp)
		}
	}
}

func TestPlayBargeIn(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)

	done := make(chan error, 1)
	go func() { done <- s.Play(ctxFor(t), prompt(8000*20)) }() // 20 s prompt
	if _, _, err := p.read(5 * time.Second); err != nil {
		t.Fatal(err) // the prompt is playing
	}
	p.sendEvent(101, '3', 100)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("barged Play returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a digit did not stop the prompt")
	}
	if sent := s.Stats().Sent; sent >= 1000 {
		t.Fatalf("played all %d frames", sent)
	}
	// The barging digit is the first one collected.
	p.sendEvent(101, '4', 100)
	got, err := s.Collect(ctxFor(t), 2, '#', 5*time.Second, 5*time.Second)
	if got != "34" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
	// A digit typed ahead skips the next prompt at once.
	p.sendEvent(101, '9', 100)
	waitFor(t, "type-ahead digit", func() bool { return s.digits.pending.Load() == 1 })
	before := s.Stats().Sent
	if err := s.Play(ctxFor(t), prompt(8000)); err != nil || s.Stats().Sent != before {
		t.Fatalf("typed-ahead Play: err %v, sent %d frames", err, s.Stats().Sent-before)
	}
}

func TestPlayNoBargeKeepsDigitsForCollect(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMA, 101)

	done := make(chan error, 1)
	go func() { done <- s.PlayNoBarge(ctxFor(t), prompt(8000/2)) }() // 25 frames
	if _, _, err := p.read(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	p.sendEvent(101, '#', 60)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(p.readAll(300*time.Millisecond)) + 1; n != 25 {
		t.Fatalf("non-barge prompt sent %d of 25 frames", n)
	}
	got, err := s.Collect(ctxFor(t), 4, 0, 5*time.Second, time.Second)
	if got != "#" || err != nil {
		t.Fatalf("Collect = %q, %v", got, err)
	}
}

func TestPlayStopsOnContextAndClose(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 0)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { p.read(5 * time.Second); cancel() }()
	if err := s.Play(ctx, prompt(8000*20)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Play returned %v", err)
	}
	go func() { p.read(5 * time.Second); s.Close() }()
	if err := s.Play(context.Background(), prompt(8000*20)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Play on closing session returned %v", err)
	}
	if err := s.Play(context.Background(), prompt(160)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after close returned %v", err)
	}
}

func TestPlayOnHoldSendsNothing(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	// The phone put us on hold (its offer said sendonly).
	s.SetRemote(Negotiated{Codec: PCMU, Remote: p.addr(), Direction: RecvOnly})
	if err := s.Play(ctxFor(t), prompt(800)); err != nil {
		t.Fatal(err)
	}
	if pkts := p.readAll(200 * time.Millisecond); len(pkts) != 0 {
		t.Fatalf("sent %d packets while held", len(pkts))
	}
	// Unhold: the stream resumes with a talkspurt start.
	s.SetRemote(Negotiated{Codec: PCMU, Remote: p.addr(), Direction: SendRecv})
	if err := s.Play(ctxFor(t), prompt(320)); err != nil {
		t.Fatal(err)
	}
	pkts := p.readAll(300 * time.Millisecond)
	if len(pkts) != 2 || !pkts[0].Marker {
		t.Fatalf("after unhold: %d packets", len(pkts))
	}
}
