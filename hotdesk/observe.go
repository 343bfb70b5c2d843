package hotdesk

import (
	"errors"
	"time"

	"deskpbx/store"
)

// Metrics counts hot-desk attempts; *metrics.Metrics satisfies it. cmd
// sets one with SetMetrics before the service is used.
type Metrics interface {
	// HotdeskLogin counts a *072 attempt by outcome: "ok", "wrong_pin",
	// "unknown_id", "locked", "no_secret", "disabled", "error".
	HotdeskLogin(outcome string)
	// HotdeskLockout counts an ID, a phone, a secret or a tenant locked out.
	HotdeskLockout()
}

// SessionEvent is a hot-desk session that began or ended, for whoever
// tells the outside world (webhooks).
type SessionEvent struct {
	Login bool // began (*072); false: ended

	Person, Seat                 string // AORs of the person and of the phone
	PersonTenantID, SeatTenantID int64
	HotdeskID                    string
	// A login's MovedFrom is the phone the person left (their old session
	// ends with this login), Replaced whom they unseated (who also gets
	// an event of their own, Reason "replaced").
	MovedFrom, Replaced string
	// Reason an ended session ended: "*073", "force-logout",
	// "autologout" or "replaced".
	Reason string
	At     time.Time
}

// SetMetrics installs the counters; call it before the service is used.
func (s *Service) SetMetrics(m Metrics) {
	if m != nil {
		s.metrics = m
	}
}

// OnSession adds f to the functions called after each session change is
// committed, on the goroutine that made it; call it before the service is
// used. f should return quickly.
func (s *Service) OnSession(f func(SessionEvent)) { s.onSession = append(s.onSession, f) }

type noMetrics struct{}

func (noMetrics) HotdeskLogin(string) {}
func (noMetrics) HotdeskLockout()     {}

// attempted counts a login or logout attempt once its transaction is
// over: the lockouts it caused, and for a login its outcome.
func (s *Service) attempted(a *attempt, err error) {
	for range a.lockouts {
		s.metrics.HotdeskLockout()
	}
	if a.what != "login" {
		return
	}
	outcome := "ok"
	switch {
	case errors.Is(err, ErrNotEnabled):
		outcome = "disabled"
	case errors.Is(err, ErrInvalid):
		outcome = map[string]string{"seat-locked": "locked", "id-locked": "locked", "secret-locked": "locked", "tenant-locked": "locked", "unknown-id": "unknown_id",
			"no-secret": "no_secret", "wrong-pin": "wrong_pin"}[a.outcome]
	case err != nil:
		outcome = "error"
	}
	s.metrics.HotdeskLogin(outcome)
}

// seated tells of a committed *072 login, and of the person it unseated.
func (s *Service) seated(a *attempt, out *Seated) {
	if s.onSession == nil {
		return
	}
	s.tell(SessionEvent{Login: true, Person: out.Person.AOR(), Seat: out.Seat.AOR(),
		PersonTenantID: out.Person.TenantID, SeatTenantID: out.Seat.TenantID, HotdeskID: a.id,
		MovedFrom: out.MovedFrom, Replaced: out.Replaced, At: a.at})
	if out.replaced != nil {
		s.ended("replaced", a.at, out.replaced)
	}
}

func (s *Service) tell(e SessionEvent) {
	for _, f := range s.onSession {
		f(e)
	}
}

// ended tells of committed session ends.
func (s *Service) ended(reason string, at time.Time, sessions ...*store.HotdeskSession) {
	if s.onSession == nil {
		return
	}
	for _, sess := range sessions {
		if sess == nil {
			continue
		}
		s.tell(SessionEvent{Person: sess.Person, Seat: sess.Device, PersonTenantID: sess.PersonTenantID,
			SeatTenantID: sess.DeviceTenantID, HotdeskID: sess.HotdeskID, Reason: reason, At: at})
	}
}
