package hotdesk

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"deskpbx/sounds"
	"deskpbx/store"
)

// Call is what a *072/*073 flow sees of the phone call it runs on; pbx
// provides it over the call's media session.
type Call interface {
	// Play plays µ-law prompts (package sounds) one after another. A key
	// pressed while it plays stops it (barge-in) and is kept for the
	// next Collect. It returns an error once the call has ended.
	Play(ctx context.Context, prompts ...[]byte) error
	// PlayNoBarge plays prompts to the end whatever is pressed: for the
	// last words of a call, which keys typed ahead must not cut off.
	PlayNoBarge(ctx context.Context, prompts ...[]byte) error
	// Collect gathers up to max keys ('0'-'9', '*', ...) and stops early
	// at terminator (which it does not return), or when firstDigit passes
	// before the first key or interDigit between two keys; a timeout is
	// not an error. It returns an error only once the call has ended.
	Collect(ctx context.Context, max int, terminator rune, firstDigit, interDigit time.Duration) (string, error)
	// Hangup ends the call from the PBX side.
	Hangup()
}

// Prompt timing and limits of the flows.
const (
	MaxTries          = 3
	MaxDigits         = 15
	FirstDigitTimeout = 10 * time.Second
	InterDigitTimeout = 5 * time.Second
)

// LoginFlow is *072 at the phone registered as seat: up to MaxTries of
// ID and password, then the session goes live and the caller hears whom
// they are logged in as. The seat's tenant decides whether *072 works here.
func (s *Service) LoginFlow(ctx context.Context, c Call, seat *store.Extension, source string) {
	f := s.newFlow(c, seat, source, "login")
	f.run(ctx, func(t *store.Tenant) bool { return t.HotdeskLogin }, func(ctx context.Context, cr credentials) ([][]byte, error) {
		res, err := s.Login(ctx, cr.id, cr.pin, seat, source)
		if err != nil {
			return nil, err
		}
		live := time.Since(cr.entered)
		s.latency.add(live)
		// Server-side figure the login-storm benchmark reads.
		f.log.Info("hot-desk session live", "person", res.Person.AOR(), "after_final_key_us", live.Microseconds())
		return append([][]byte{sounds.Ulaw(sounds.LoggedInAs)}, spoken(res.Person.Number)...), nil
	})
}

// LogoutFlow is *073 at the phone registered as seat: the same ID and
// password dialogue, then the person's session ends wherever it is.
func (s *Service) LogoutFlow(ctx context.Context, c Call, seat *store.Extension, source string) {
	f := s.newFlow(c, seat, source, "logout")
	f.run(ctx, func(t *store.Tenant) bool { return t.HotdeskLogout }, func(ctx context.Context, cr credentials) ([][]byte, error) {
		// Also when the person was not seated: the outcome they asked
		// for holds either way.
		if _, err := s.Logout(ctx, cr.id, cr.pin, seat, source); err != nil {
			return nil, err
		}
		return [][]byte{sounds.Ulaw(sounds.LoggedOut)}, nil
	})
}

// run is the dialogue both codes share: the feature switch of the seat's
// tenant, then up to MaxTries of ID and password, each checked by act,
// which returns the confirmation to play. act runs even if the caller
// hangs up right after '#': the change completes and is audited, it just
// is not announced.
func (f *flow) run(ctx context.Context, on func(*store.Tenant) bool, act func(context.Context, credentials) ([][]byte, error)) {
	if !f.enabled(ctx, on) {
		return
	}
	for try := 1; try <= MaxTries; try++ {
		cr, ok := f.credentials(ctx)
		if !ok {
			return
		}
		if cr.malformed {
			if !f.play(ctx, sounds.Ulaw(sounds.Invalid)) {
				return
			}
			continue
		}
		confirm, err := act(context.WithoutCancel(ctx), cr)
		switch {
		case err == nil:
			f.finish(ctx, confirm...)
			return
		case errors.Is(err, ErrInvalid):
			if !f.play(ctx, sounds.Ulaw(sounds.Invalid)) {
				return
			}
		default:
			f.failed(ctx, err)
			return
		}
	}
	f.finish(ctx, sounds.Ulaw(sounds.TooMany))
}

// flow is one *072 or *073 call in progress.
type flow struct {
	s      *Service
	c      Call
	seat   *store.Extension
	source string
	what   string
	log    *slog.Logger
}

func (s *Service) newFlow(c Call, seat *store.Extension, source, what string) *flow {
	return &flow{s: s, c: c, seat: seat, source: source, what: what,
		log: s.Log.With("flow", what, "seat", seat.AOR(), "source", source)}
}

// enabled reports whether the seat's tenant allows this flow; if not, it
// tells the caller so and hangs up.
func (f *flow) enabled(ctx context.Context, on func(*store.Tenant) bool) bool {
	t, err := f.s.db.HotdeskTenant(ctx, f.seat.TenantID)
	if err != nil {
		f.failed(ctx, err)
		return false
	}
	if !on(t) {
		f.log.Info("hot desking is off for the seat's tenant", "tenant", t.Domain)
		f.finish(ctx, sounds.Ulaw(sounds.NotEnabled), sounds.Ulaw(sounds.Goodbye))
		return false
	}
	return true
}

type credentials struct {
	id, pin   string
	malformed bool      // the ID was silence, too long or had a '*': no attempt made
	entered   time.Time // when the final '#' ended the password (monotonic clock)
}

// credentials asks for the ID and password. ok is false when the call
// ended; an ID keyed before that is audited as an abandoned attempt.
func (f *flow) credentials(ctx context.Context) (cr credentials, ok bool) {
	if !f.play(ctx, sounds.Ulaw(sounds.EnterID)) {
		return cr, false
	}
	id, err := f.c.Collect(ctx, MaxDigits+1, '#', FirstDigitTimeout, InterDigitTimeout)
	if err != nil {
		return cr, false
	}
	if !wellFormedID(id) {
		// Nothing was tried against any ID, so nothing counts or is
		// audited; it still uses up one of the caller's tries.
		return credentials{malformed: true}, true
	}
	if !f.play(ctx, sounds.Ulaw(sounds.EnterPIN)) {
		f.abandoned(ctx, id)
		return cr, false
	}
	pin, err := f.c.Collect(ctx, MaxDigits+1, '#', FirstDigitTimeout, InterDigitTimeout)
	if err != nil {
		f.abandoned(ctx, id)
		return cr, false
	}
	return credentials{id: id, pin: pin, entered: time.Now()}, true
}

func wellFormedID(id string) bool {
	if id == "" || len(id) > MaxDigits {
		return false
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// abandoned audits a caller who keyed an ID and hung up before their
// password was checked. It is not a failed attempt: no password was tried.
func (f *flow) abandoned(ctx context.Context, id string) {
	err := f.s.tx(context.WithoutCancel(ctx), func(tx *store.HotdeskTx) error {
		return tx.Audit(store.AuditEntry{At: f.s.Now(), TenantID: f.seat.TenantID, SeatTenantID: f.seat.TenantID,
			Actor: f.seat.AOR(), Action: "failed", Seat: f.seat.AOR(), Source: f.source, IDTried: id,
			Outcome: "abandoned", Detail: f.what + ": hung up before the password was checked"})
	})
	if err != nil {
		f.log.Error("hot-desk audit", "err", err)
	}
}

// play reports whether the caller is still there.
func (f *flow) play(ctx context.Context, prompts ...[]byte) bool {
	return f.c.Play(ctx, prompts...) == nil
}

// finish plays the last prompts in full and hangs up, unless the caller
// already has.
func (f *flow) finish(ctx context.Context, prompts ...[]byte) {
	if f.c.PlayNoBarge(ctx, prompts...) == nil {
		f.c.Hangup()
	}
}

func (f *flow) failed(ctx context.Context, err error) {
	f.log.Error("hot-desk flow failed", "err", err)
	f.finish(ctx, sounds.Ulaw(sounds.TryAgain), sounds.Ulaw(sounds.Goodbye))
}

// spoken is number read out digit by digit.
func spoken(number string) [][]byte {
	out := make([][]byte, 0, len(number))
	for _, d := range number {
		if p := sounds.Digit(d); p != nil {
			out = append(out, p)
		}
	}
	return out
}
