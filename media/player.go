package media

import (
	"context"
	"time"
)

// frameInterval is the packetisation we send: 20 ms, 160 samples.
const frameInterval = 20 * time.Millisecond

// maxLag is how late the player may fall (GC pause, overloaded box) before
// it gives up catching up. Up to it, late frames go out back to back and
// the schedule is kept; beyond it, sending a burst would only overflow the
// phone's jitter buffer, so the schedule restarts from now.
const maxLag = 100 * time.Millisecond

// lateAfter is when a frame counts as late in Stats: the design's target
// was every packet within 5 ms of its slot.
const lateAfter = 5 * time.Millisecond

// Play plays µ-law prompts back to back as one talkspurt (transcoded to
// A-law on a PCMA call), paced on a monotonic deadline schedule. A digit
// barges in: Play returns nil at once and the digit stays queued, so the
// next Collect gets it first. A digit already queued when Play is called
// (typed ahead) skips the prompt the same way.
//
// Between prompts, and whenever nothing plays, nothing is sent (silence
// suppression, RFC 3551): no goroutine or timer runs for an idle call, and
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

func (s *Session) play(ctx context.Context, barge bool, prompts [][]byte) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	if barge && s.digits.pending.Load() > 0 {
		return nil
	}
	codec := s.Codec()
	pt := codec.PayloadType()
	var ulaw, frame [SamplesPerFrame]byte
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	next := time.Now()
	first := true
	p, off := 0, 0
	for {
		// Prompts are cut into frames across their boundaries, so a
		// number spoken as concatenated digit prompts has no gaps.
		fill := 0
		for fill < SamplesPerFrame && p < len(prompts) {
			n := copy(ulaw[fill:], prompts[p][off:])
			fill += n
			off += n
			if off >= len(prompts[p]) {
				p, off = p+1, 0
			}
		}
		if fill == 0 {
			return nil
		}
		for i := fill; i < SamplesPerFrame; i++ {
			ulaw[i] = PCMU.Silence()
		}
		codec.FromUlaw(frame[:], ulaw[:])

		if wait := time.Until(next); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return ctx.Err()
			case <-s.done:
				return ErrClosed
			}
		} else if -wait > maxLag {
			// Restarting the schedule is a break in the stream: the next
			// frame starts a talkspurt, so its timestamp jumps with the
			// wall clock instead of drifting behind it.
			next, first = time.Now(), true
		}
		if time.Since(next) > lateAfter {
			s.late.Add(1)
		}
		if barge && s.digits.pending.Load() > 0 {
			return nil
		}
		s.send(pt, frame[:], SamplesPerFrame, first)
		first = false
		next = next.Add(frameInterval)
	}
}
