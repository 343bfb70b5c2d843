package media

import (
	"context"
	"errors"
	"time"
)

// ErrNoInput is Collect's answer when not even one digit came before the
// first-digit timeout: the caller typically re-prompts.
var ErrNoInput = errors.New("media: no digits entered")

// terminatorGrace is how long after Collect ends on max digits a pressed
// terminator is still taken as part of that entry when no inter-digit
// timeout says otherwise.
const terminatorGrace = 3 * time.Second

// Collect gathers what the caller types for one menu step. Digits typed
// during the preceding prompt (barge-in) or before it are the first ones
// collected. It returns:
//   - on the terminator: the digits before it, nil (a lone terminator gives
//     "", nil: an empty entry, e.g. "press # to keep the current setting");
//   - on max digits (max > 0): the digits, nil; a terminator pressed right
//     after (1234# into a 4-digit prompt, out of habit) is swallowed rather
//     than left to end the next step empty;
//   - on the inter-digit timeout after at least one digit: the digits, nil,
//     as phone menus accept an entry the caller stopped typing;
//   - on the first-digit timeout with nothing typed: "", ErrNoInput;
//   - when ctx is done or the session closes: what was typed, and ctx.Err()
//     or ErrClosed.
//
// terminator 0 means none. A timeout <= 0 waits indefinitely (ctx bounds it).
func (s *Session) Collect(ctx context.Context, max int, terminator rune, firstDigitTimeout, interDigitTimeout time.Duration) (string, error) {
	if err := s.alive(ctx); err != nil {
		return "", err
	}
	digits := make([]byte, 0, 16)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var expired <-chan time.Time
	arm := func(d time.Duration) {
		if d <= 0 {
			timer.Stop()
			expired = nil
			return
		}
		timer.Reset(d)
		expired = timer.C
	}
	arm(firstDigitTimeout)
	for {
		d, wake, ok := s.digits.pop()
		if ok {
			if terminator != 0 && d.Key == terminator {
				return string(digits), nil
			}
			digits = append(digits, byte(d.Key))
			if max > 0 && len(digits) >= max {
				if terminator != 0 {
					grace := interDigitTimeout
					if grace <= 0 {
						grace = terminatorGrace
					}
					s.digits.swallowNext(terminator, time.Now().Add(grace))
				}
				return string(digits), nil
			}
			arm(interDigitTimeout)
			continue
		}
		select {
		case <-wake:
		case <-expired:
			if len(digits) == 0 {
				return "", ErrNoInput
			}
			return string(digits), nil
		case <-ctx.Done():
			return string(digits), ctx.Err()
		case <-s.done:
			return string(digits), ErrClosed
		}
	}
}

// NextDigit waits for the next key press, with the method that carried it.
func (s *Session) NextDigit(ctx context.Context) (Digit, error) {
	if err := s.alive(ctx); err != nil {
		return Digit{}, err
	}
	for {
		d, wake, ok := s.digits.pop()
		if ok {
			return d, nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return Digit{}, ctx.Err()
		case <-s.done:
			return Digit{}, ErrClosed
		}
	}
}

// FeedDigit puts a digit that arrived outside RTP (SIP INFO, see ParseINFO)
// into the call's digit stream, where it is de-duplicated against the same
// press seen in RTP. It reports whether the digit was new.
func (s *Session) FeedDigit(key rune, m Method) bool {
	now := time.Now()
	return s.pressed(key, m, now, now)
}

// MethodsSeen is every method that carried a key press so far in this
// call, including presses dropped as duplicates. Digit.Method names only
// the first method to report a press (in-band usually beats an RFC 4733
// end packet), so this is what answers "how does this phone send DTMF".
func (s *Session) MethodsSeen() Method { return s.digits.methodsSeen() }

// FlushDigits drops digits typed but not yet collected, for a step that
// must not act on type-ahead (a confirmation after an error, say).
func (s *Session) FlushDigits() { s.digits.flush() }

// Echo sends the caller's audio back to them, frame by frame as it arrives,
// under our SSRC, sequence numbers and timestamps (the *43 echo test), until
// ctx is done (returning ctx.Err()) or the session closes (ErrClosed).
// Digits are still detected and queued meanwhile.
func (s *Session) Echo(ctx context.Context) error {
	if err := s.alive(ctx); err != nil {
		return err
	}
	s.echoReset.Store(true)
	s.echoOn.Store(true)
	defer s.echoOn.Store(false)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}
