package pbx

import (
	"context"
	"errors"
	"strings"
	"time"

	"deskpbx/media"
	"deskpbx/sounds"
)

// Diagnostic feature codes every installer needs, on by default.
const (
	EchoTestCode = "*43"
	DTMFTestCode = "*44"
)

// echoTest answers *43: a short announcement, then the caller's own
// audio back until they hang up (capped, so a forgotten call ends).
func echoTest(ctx context.Context, fc *FeatureCall) {
	if err := fc.PlayNoBarge(ctx, sounds.Ulaw(sounds.EchoTest)); err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	fc.Echo(ctx)
}

// dtmfTest answers *44: "press keys then pound", then reads the keys
// back and says how the phone sent them (RTP events, in-band tones or
// SIP INFO), which is what an installer needs to know about a phone.
func dtmfTest(ctx context.Context, fc *FeatureCall) {
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
	methods := fc.media.MethodsSeen()
	fc.Log.Info("dtmf test", "digits", pressed.String(), "methods", methodNames(methods))
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
