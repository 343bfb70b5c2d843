package media

import (
	"context"
	"sync"
	"time"
)

// frameInterval is the packetisation we send: 20 ms, 160 samples.
const frameInterval = 20 * time.Millisecond

// maxLag is how late the player may fall (GC pause, overloaded box) before
// it gives up catching up. Up to it, late frames go out back to back and
// the schedule is kept; beyond it, sending a burst would only overflow the
// phone's jitter buffer, so the schedule restarts at the call's next slot,
// as a new talkspurt.
const maxLag = 100 * time.Millisecond

// lateAfter is when a frame counts as late in Stats: the design's target
// was every packet within 5 ms of its slot.
const lateAfter = 5 * time.Millisecond

// Play plays µ-law prompts back to back as one talkspurt (transcoded to
// A-law on a PCMA call), paced by the pacer of the 1 ms slot it started
// in: one frame every 20 ms in that slot (see pacer). A digit
// barges in: Play returns nil at once and the digit stays queued, so the
// next Collect gets it first. A digit already queued when Play is called
// (typed ahead) skips the prompt the same way.
//
// Between prompts, and whenever nothing plays, nothing is sent (silence
// suppression, RFC 3551): nothing is scheduled for an idle call, and
// the next Play starts a new talkspurt, marker bit set and timestamp moved
// on by the silence. Play returns ctx.Err() or ErrClosed if the call ends.
func (s *Session) Play(ctx context.Context, prompts ...[]byte) error {
	return s.play(ctx, true, prompts)
}

// PlayNoBarge plays prompts to the end whatever is pressed (for messages
// that must be heard, such as "invalid PIN"). Digits pressed meanwhile stay
// queued for the next Collect; call FlushDigits to drop them.
func (s *Session) PlayNoBarge(ctx context.Context, prompts ...[]byte) error {
	return s.play(ctx, false, prompts)
}

// playout is a session's prompt being played: where it is in its prompts
// and when its next frame is due. The call's goroutine starts and cancels
// it, its pacer sends the frames after the first.
type playout struct {
	mu      sync.Mutex
	gen     uint64 // counts playouts, so a pacer can tell a stale entry
	active  bool
	barge   bool
	codec   Codec
	prompts [][]byte
	p, off  int
	pacer   *pacer // the one that sends this playout's frames
	tick    int64  // the pacer tick the next frame is due at
	first   bool   // the next frame starts a talkspurt
	ended   chan struct{}
}

func (s *Session) play(ctx context.Context, barge bool, prompts [][]byte) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	if barge && s.digits.pending.Load() > 0 {
		return nil
	}
	// One prompt at a time per call: two would interleave their frames.
	select {
	case s.playing <- struct{}{}:
		defer func() { <-s.playing }()
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	codec := s.Codec()
	out := &s.out
	out.mu.Lock()
	out.gen++
	gen := out.gen
	out.active, out.barge, out.codec, out.prompts, out.p, out.off, out.first = true, barge, codec, prompts, 0, 0, true
	select {
	case <-out.ended: // a word from a cancelled playout, too late
	default:
	}
	// The first frame goes out now, from here: a prompt starts without
	// waiting for a slot, and its slot is the one it started in.
	var ulaw, frame [SamplesPerFrame]byte
	more := s.sendFrame(&ulaw, &frame)
	out.mu.Unlock()
	if !more {
		return nil
	}
	now := time.Now()
	pacerAt(now).add(s, gen, now)
	select {
	case <-out.ended:
		return nil
	case <-ctx.Done():
		s.stopPlayout(gen)
		return ctx.Err()
	case <-s.done:
		s.stopPlayout(gen)
		return ErrClosed
	}
}

// stopPlayout cancels playout gen: once it returns, no frame of it is sent.
func (s *Session) stopPlayout(gen uint64) {
	s.out.mu.Lock()
	defer s.out.mu.Unlock()
	if s.out.gen == gen {
		s.out.active, s.out.prompts = false, nil
	}
}

// paceFrames sends the frames of playout gen due by tick cur (more than
// one when the pacer fell behind, up to maxLag), and reports whether the
// playout goes on. Called by p with p.mu held.
func (s *Session) paceFrames(p *pacer, gen uint64, cur int64, now time.Time) bool {
	out := &s.out
	out.mu.Lock()
	defer out.mu.Unlock()
	if out.gen != gen || !out.active {
		return false
	}
	for out.tick <= cur {
		if now.Sub(p.timeOf(out.tick)) > maxLag {
			// Sending a burst would only overflow the phone's jitter
			// buffer: go on at the call's next slot, as a new talkspurt
			// so the timestamp jumps with the wall clock.
			out.tick += ((cur-out.tick)/slotsPerFrame + 1) * slotsPerFrame
			out.first = true
			break
		}
		// Measured now, not when the pacer woke: the sends before this
		// one in the slot delayed it too.
		if time.Since(p.timeOf(out.tick)) > lateAfter {
			s.late.Add(1)
		}
		if out.barge && s.digits.pending.Load() > 0 {
			s.endPlayout()
			return false
		}
		if !s.sendFrame(&p.ulaw, &p.frame) {
			return false
		}
		out.tick += slotsPerFrame
	}
	return true
}

// sendFrame sends the playout's next frame and reports whether another
// follows; when none does, the playout has ended. s.out.mu is held.
func (s *Session) sendFrame(ulaw, frame *[SamplesPerFrame]byte) bool {
	out := &s.out
	// Prompts are cut into frames across their boundaries, so a number
	// spoken as concatenated digit prompts has no gaps.
	fill := 0
	for fill < SamplesPerFrame && out.p < len(out.prompts) {
		n := copy(ulaw[fill:], out.prompts[out.p][out.off:])
		fill += n
		out.off += n
		if out.off >= len(out.prompts[out.p]) {
			out.p, out.off = out.p+1, 0
		}
	}
	if fill > 0 {
		for i := fill; i < SamplesPerFrame; i++ {
			ulaw[i] = PCMU.Silence()
		}
		out.codec.FromUlaw(frame[:], ulaw[:])
		s.send(out.codec.PayloadType(), frame[:], SamplesPerFrame, out.first)
		out.first = false
	}
	if out.p >= len(out.prompts) {
		s.endPlayout()
		return false
	}
	return true
}

// endPlayout marks the playout done and wakes its Play. s.out.mu is held.
func (s *Session) endPlayout() {
	s.out.active, s.out.prompts = false, nil
	select {
	case s.out.ended <- struct{}{}:
	default:
	}
}
