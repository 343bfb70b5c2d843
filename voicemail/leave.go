package voicemail

import (
	"context"
	"errors"
	"math"
	"time"

	"deskpbx/media"
	"deskpbx/sounds"
	"deskpbx/store"
)

// Leave is the caller's side of a mailbox: the person's greeting (or the
// spoken default, with their recorded name if any), a beep, and their
// message, recorded until '#', hang-up, silence or the maximum length.
// box is the person called, never the seat they sit at.
func (s *Service) Leave(ctx context.Context, c Call, box *store.Extension, from Caller) {
	log := s.Log.With("mailbox", box.AOR(), "from", from.Number)
	full, err := s.Full(ctx, box)
	if err != nil {
		log.Error("voicemail: mailbox count", "err", err)
		c.Hangup()
		return
	}
	if full {
		log.Info("voicemail: mailbox full, nothing taken")
		sayFull(ctx, c)
		return
	}
	// The greeting may be skipped with any key, as callers expect; the
	// key is not part of the message.
	if c.Play(ctx, s.greeting(ctx, box)...) != nil {
		return
	}
	drain(ctx, c)
	if c.PlayNoBarge(ctx, beep) != nil {
		return
	}
	pcm, end := c.Record(ctx, media.RecordLimits{MaxLen: s.MaxLen, Silence: SilenceEnd, StopKey: '#'})
	// The message is kept even if the caller hung up (the usual way to
	// finish one), so it must not depend on the call's context.
	_, err = s.Deposit(context.WithoutCancel(ctx), box, from, pcm)
	switch {
	case errors.Is(err, store.ErrMailboxFull):
		// Other callers filled it while this one spoke.
		log.Info("voicemail: mailbox filled up during the message, nothing taken")
		if end != media.EndHangup {
			sayFull(ctx, c)
		}
		return
	case errors.Is(err, ErrTooShort):
		log.Info("voicemail: message under a second dropped", "ended_by", end.String())
	case err != nil:
		log.Error("voicemail: message not stored", "err", err)
	}
	if end == media.EndHangup {
		return
	}
	if err == nil {
		c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMMessageSaved), sounds.Ulaw(sounds.Goodbye))
	} else {
		c.PlayNoBarge(ctx, sounds.Ulaw(sounds.Goodbye))
	}
	c.Hangup()
}

// sayFull tells the caller the mailbox takes no message, and hangs up.
func sayFull(ctx context.Context, c Call) {
	c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMFull), sounds.Ulaw(sounds.Goodbye))
	c.Hangup()
}

// greeting is the recorded greeting, else "extension 1 0 0 1 (or the
// recorded name) is not available", then the instructions.
func (s *Service) greeting(ctx context.Context, box *store.Extension) [][]byte {
	m, err := s.db.Mailbox(ctx, box.ID)
	if err != nil {
		m = &store.Mailbox{}
	}
	if m.GreetingFile != "" {
		if pcm, err := s.Audio(m.GreetingFile); err == nil {
			return [][]byte{ulaw(pcm)}
		}
	}
	out := [][]byte{}
	if pcm, err := s.Audio(m.NameFile); m.NameFile != "" && err == nil {
		out = append(out, ulaw(pcm))
	} else {
		out = append(out, sounds.Ulaw(sounds.VMExtension))
		out = append(out, sounds.Number(box.Number)...)
	}
	return append(out, sounds.Ulaw(sounds.VMUnavailable), sounds.Ulaw(sounds.VMAfterTone))
}

// drain drops keys typed so far, so a key that skipped a prompt does not
// also act on the next step (a '#' would end the recording at once).
func drain(ctx context.Context, c Call) {
	for range 32 {
		if d, _ := c.Collect(ctx, 1, 0, time.Millisecond, 0); d == "" {
			return
		}
	}
}

// beep is the tone that says "speak now": 1 kHz for 250 ms, -10 dBFS.
var beep = func() []byte {
	pcm := make([]int16, sampleRate/4)
	for i := range pcm {
		pcm[i] = int16(10362 * math.Sin(2*math.Pi*1000*float64(i)/sampleRate))
	}
	return ulaw(pcm)
}()

// ulaw encodes recorded audio for Play.
func ulaw(pcm []int16) []byte { return media.PCMU.Encode(make([]byte, 0, len(pcm)), pcm) }
