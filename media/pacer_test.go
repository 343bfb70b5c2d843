package media

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// Fifty calls playing at once share the pacers: each phone hears its own
// prompt whole, in order, one frame per 20 ms slot.
func TestManyCallsPlayingAtOnceEachHearTheirPrompt(t *testing.T) {
	t.Parallel()
	const calls, frames = 50, 10
	type leg struct {
		s      *Session
		p      *phone
		prompt []byte
	}
	legs := make([]leg, calls)
	for i := range legs {
		s := newTestSession(t, Config{})
		p := newPhone(t, s.LocalAddr())
		connect(s, p, PCMU, 101)
		// Each call its own audio, so a frame sent to the wrong call shows.
		pr := PCMU.Encode(nil, sweep(frames*SamplesPerFrame+i))[i:]
		legs[i] = leg{s, p, pr}
	}
	var wg sync.WaitGroup
	errs := make([]error, calls)
	took := make([]time.Duration, calls)
	for i, l := range legs {
		wg.Go(func() {
			start := time.Now()
			errs[i] = l.s.Play(ctxFor(t), l.prompt)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	for i, l := range legs {
		if errs[i] != nil {
			t.Fatalf("call %d: Play: %v", i, errs[i])
		}
		if took[i] < (frames-1)*frameInterval {
			t.Fatalf("call %d: %d frames played in %v", i, frames, took[i])
		}
		pkts := l.p.readAll(300 * time.Millisecond)
		if len(pkts) != frames {
			t.Fatalf("call %d: %d packets, want %d", i, len(pkts), frames)
		}
		var got []byte
		for j, pkt := range pkts {
			// A later marker is allowed: a pacer the machine stalled for
			// over 100 ms resumes with a new talkspurt (see
			// TestAStalledPacerGoesOnWithANewTalkspurt), and this test
			// runs 50 calls beside the rest of the suite.
			if pkt.SequenceNumber != pkts[0].SequenceNumber+uint16(j) || (j == 0 && !pkt.Marker) {
				t.Fatalf("call %d packet %d: seq %d after %d, marker %v", i, j, pkt.SequenceNumber, pkts[0].SequenceNumber, pkt.Marker)
			}
			got = append(got, pkt.Payload...)
		}
		if !bytes.Equal(got, l.prompt) {
			t.Fatalf("call %d heard other audio than its prompt", i)
		}
	}
}

// A prompt cut short and a new one started at once: the pacer still holds
// the old one's place, and must not send the new prompt from it as well
// (two frames per 20 ms, the prompt played at double speed).
func TestPromptStartedRightAfterACancelledOnePlaysOnce(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { p.read(5 * time.Second); cancel() }()
	if err := s.Play(ctx, prompt(8000*20)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Play returned %v", err)
	}
	p.readAll(100 * time.Millisecond) // what the first prompt sent before it stopped

	const frames = 10
	start := time.Now()
	if err := s.Play(ctxFor(t), prompt(frames*SamplesPerFrame)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < (frames-1)*frameInterval {
		t.Fatalf("%d frames played in %v", frames, took)
	}
	pkts := p.readAll(300 * time.Millisecond)
	if len(pkts) != frames || !pkts[0].Marker {
		t.Fatalf("second prompt: %d packets, want %d starting a talkspurt", len(pkts), frames)
	}
}

// A pacer held up for longer than maxLag (a GC pause, an overloaded box)
// does not send the missed frames in a burst: the prompt goes on as a new
// talkspurt whose timestamp has moved on with the wall clock, and no frame
// is lost or sent twice.
func TestAStalledPacerGoesOnWithANewTalkspurt(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)

	const frames, stall = 50, 150 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- s.Play(ctxFor(t), prompt(frames*SamplesPerFrame)) }()
	var pkts []rtp.Packet
	for range 3 {
		pkt, _, err := p.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, pkt)
	}
	s.out.mu.Lock()
	pc := s.out.pacer
	s.out.mu.Unlock()
	pc.mu.Lock() // the pacer cannot serve its slot meanwhile
	time.Sleep(stall)
	pc.mu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pkts = append(pkts, p.readAll(300*time.Millisecond)...)
	if len(pkts) != frames {
		t.Fatalf("%d packets, want %d", len(pkts), frames)
	}
	spurts := 0
	for i, pkt := range pkts {
		if pkt.SequenceNumber != pkts[0].SequenceNumber+uint16(i) {
			t.Fatalf("packet %d: seq %d after %d", i, pkt.SequenceNumber, pkts[0].SequenceNumber)
		}
		if i == 0 || !pkt.Marker {
			continue
		}
		spurts++
		// The silence was at least the stall less the frame the pacer may
		// have sent just before it.
		if step := pkt.Timestamp - pkts[i-1].Timestamp; step < uint32((stall-frameInterval)/time.Millisecond*8) {
			t.Fatalf("packet %d starts a talkspurt %d samples after the last", i, step)
		}
	}
	if spurts != 1 {
		t.Fatalf("%d new talkspurts after the stall, want 1", spurts)
	}
}

// Two prompts on one call play one after the other, and one waiting for
// its turn still ends with its context.
func TestASecondPromptWaitsForTheFirstAndForItsContext(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)

	first := make(chan error, 1)
	go func() { first <- s.Play(ctxFor(t), prompt(8000*20)) }()
	if _, _, err := p.read(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- s.Play(ctx, prompt(160)) }()
	cancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting Play returned %v", err)
	}
	select {
	case err := <-first:
		t.Fatalf("the first prompt stopped: %v", err)
	default:
	}
	s.Close()
	if err := <-first; !errors.Is(err, ErrClosed) {
		t.Fatalf("first Play returned %v", err)
	}
}
