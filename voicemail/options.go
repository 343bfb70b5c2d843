package voicemail

import (
	"context"
	"errors"
	"time"

	"deskpbx/media"
	"deskpbx/sounds"
	"deskpbx/store"
)

// options is the mailbox options menu: 1 record the greeting, 2 record
// the name, 3 change the PIN; * (or nothing) goes back.
func (m *menu) options(ctx context.Context) error {
	key, err := m.ask(ctx, sounds.VMOptions)
	if err != nil {
		return err
	}
	switch key {
	case "1":
		return m.record(ctx, sounds.VMRecordGreeting, store.RecordingGreeting)
	case "2":
		return m.record(ctx, sounds.VMRecordName, store.RecordingName)
	case "3":
		return m.changePIN(ctx)
	case "#":
		return errExit
	}
	return nil
}

// record records the greeting or the name; under a second keeps the one
// there was.
func (m *menu) record(ctx context.Context, prompt, which string) error {
	if err := m.c.Play(ctx, sounds.Ulaw(prompt)); err != nil {
		return err
	}
	drain(ctx, m.c)
	if err := m.c.PlayNoBarge(ctx, beep); err != nil {
		return err
	}
	pcm, end := m.c.Record(ctx, media.RecordLimits{MaxLen: time.Minute, Silence: SilenceEnd, StopKey: '#'})
	if end == media.EndHangup {
		return errExit // a greeting cut by a hang-up is not what they meant to keep
	}
	if len(pcm) < int(MinLen/(time.Second/sampleRate)) {
		return m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMInvalidOption))
	}
	if err := m.s.SetRecording(context.WithoutCancel(ctx), m.box, which, pcm); err != nil {
		return err
	}
	m.log.Info("voicemail recording changed", "which", which)
	return m.c.Play(ctx, sounds.Ulaw(sounds.VMRecorded))
}

// changePIN asks for the new PIN twice; guessable PINs are refused.
func (m *menu) changePIN(ctx context.Context) error {
	pins := [2]string{}
	for i, prompt := range []string{sounds.VMNewPIN, sounds.VMPINAgain} {
		if err := m.c.Play(ctx, sounds.Ulaw(prompt)); err != nil {
			return err
		}
		pin, err := m.c.Collect(ctx, 15, '#', MenuTimeout, KeyTimeout)
		if errors.Is(err, media.ErrNoInput) {
			return nil
		}
		if err != nil {
			return err
		}
		pins[i] = pin
	}
	if pins[0] != pins[1] {
		return m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMPINMismatch))
	}
	err := m.s.db.SetVoicemailPIN(context.WithoutCancel(ctx), m.box.ID, pins[0], m.box.AOR()+" (*97/*98)")
	if store.ErrorCode(err) == store.EINVALID {
		return m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMPINWeak))
	}
	if err != nil {
		return err
	}
	m.log.Info("voicemail PIN changed by its owner")
	return m.c.Play(ctx, sounds.Ulaw(sounds.VMPINChanged))
}
