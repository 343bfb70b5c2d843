// Package diag holds the diagnostic calls every installer needs: an echo
// test and a DTMF test. Like every feature, it reaches its call only
// through the small Call interface below, which pbx's feature calls
// provide; the dial plan decides which codes reach them.
package diag

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"deskpbx/media"
	"deskpbx/sounds"
)

// Call is what a diagnostic sees of the call it answers.
type Call interface {
	// Play plays µ-law prompts; a key press stops it and is kept.
	Play(ctx context.Context, prompts ...[]byte) error
	// PlayNoBarge plays prompts to the end whatever is pressed.
	PlayNoBarge(ctx context.Context, prompts ...[]byte) error
	// NextDigit waits for one key press and says how the phone sent it.
	NextDigit(ctx context.Context) (media.Digit, error)
	// Echo sends the caller's audio back until ctx ends.
	Echo(ctx context.Context) error
	// MethodsSeen is every DTMF method that carried a key so far.
	MethodsSeen() media.Method
}

// EchoFor caps an echo test: long enough to check a headset, short
// enough that a forgotten or abusive call soon gives back its RTP port.
const EchoFor = 2 * time.Minute

// EchoTest is a short announcement, then the caller's own audio back
// until they hang up (capped, so a forgotten call ends).
func EchoTest(ctx context.Context, fc Call) {
	if err := fc.PlayNoBarge(ctx, sounds.Ulaw(sounds.EchoTest)); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, EchoFor)
	defer cancel()
	fc.Echo(ctx)
}

// DTMFTest says "press keys then pound", then reads the keys back and
// says how the phone sent them (RTP events, in-band tones or SIP INFO),
// which is what an installer needs to know about a phone.
func DTMFTest(ctx context.Context, fc Call, log *slog.Logger) {
	if err := fc.Play(ctx, sounds.Ulaw(sounds.PressKeys)); err != nil {
		return
	}
	var keys []media.Digit
	wait := 15 * time.Second
	for len(keys) < 32 {
		dctx, cancel := context.WithTimeout(ctx, wait)
		d, err := fc.NextDigit(dctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
				return // caller hung up
			}
			break
		}
		if d.Key == '#' {
			break
		}
		keys = append(keys, d)
		wait = 5 * time.Second
	}
	var pressed strings.Builder
	for _, d := range keys {
		pressed.WriteRune(d.Key)
	}
	// Every method seen, not each digit's first: a phone sending both
	// RTP events and tones should hear both named.
	methods := fc.MethodsSeen()
	log.Info("dtmf test", "digits", pressed.String(), "methods", methodNames(methods))
	var readback [][]byte
	if len(keys) == 0 {
		readback = append(readback, sounds.Ulaw(sounds.NothingPressed))
	} else {
		readback = append(readback, sounds.Ulaw(sounds.YouPressed))
		for _, d := range keys {
			if p := sounds.Digit(d.Key); p != nil {
				readback = append(readback, p)
			}
		}
		for _, m := range []struct {
			method media.Method
			prompt string
		}{{media.RFC4733, sounds.ViaRFC4733}, {media.Inband, sounds.ViaInband}, {media.INFO, sounds.ViaInfo}} {
			if methods&m.method != 0 {
				readback = append(readback, sounds.Ulaw(m.prompt))
			}
		}
	}
	readback = append(readback, sounds.Ulaw(sounds.Goodbye))
	fc.PlayNoBarge(ctx, readback...)
}

func methodNames(m media.Method) string {
	var names []string
	for _, one := range []media.Method{media.RFC4733, media.Inband, media.INFO} {
		if m&one != 0 {
			names = append(names, one.String())
		}
	}
	return strings.Join(names, "+")
}
