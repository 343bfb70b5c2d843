package hotdesk

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"deskpbx/store"
)

// Seated is the outcome of a login.
type Seated struct {
	Person     *store.Extension
	Seat       *store.Extension
	MovedFrom  string // AOR of the phone the person left; "" if none
	Replaced   string // AOR of the person who sat here before; "" if none
	RingTarget string // where the person's calls now ring

	replaced *store.HotdeskSession // the session Replaced had here
}

// attempt is one try of an ID and password at a seat.
type attempt struct {
	what   string // "login" or "logout", for the audit detail
	id     string
	seat   *store.Extension
	source string
	at     time.Time
	pre    checked

	outcome  string // of a refusal, as audited
	lockouts int    // caused by this attempt
}

// checked is the password checked before the transaction against the
// secret as it was then. PBKDF2 is half of a login's work; doing it
// outside the write lock halves how long other logins queue behind it.
type checked struct {
	secret string // the hash checked against; "" when there was none
	ok     bool
}

// precheck always costs one PBKDF2, real or decoy, so neither an unknown
// ID nor a lockout answers faster than a wrong password.
func (s *Service) precheck(ctx context.Context, id, pin string) checked {
	if e, err := s.db.HotdeskLoginEntry(ctx, id); err == nil {
		if secret := e.LoginSecret(); secret != "" {
			return checked{secret: secret, ok: store.CheckPIN(secret, pin)}
		}
	}
	store.CheckPIN(decoyHash(), pin)
	return checked{}
}

func (a *attempt) seatKey() string { return strconv.FormatInt(a.seat.ID, 10) }

// Login seats the person with hot-desk ID id at seat (the phone's own
// registered extension, never the identity it calls as) if pin is their
// secret. In one transaction it frees the phone the person sat at
// (move), unseats whoever sat at seat (replace), starts the session and
// writes the audit rows. A refusal of any kind is ErrInvalid, or
// ErrNotEnabled when the seat's tenant has *072 switched off.
func (s *Service) Login(ctx context.Context, id, pin string, seat *store.Extension, source string) (*Seated, error) {
	a := &attempt{what: "login", id: id, seat: seat, source: source, pre: s.precheck(ctx, id, pin)}
	var out *Seated
	err := s.try(ctx, a, pin, func(t *store.Tenant) bool { return t.HotdeskLogin }, func(tx *store.HotdeskTx, entry *store.HotdeskEntry) error {
		var err error
		out, err = s.seatPerson(tx, entry, seat, a.at, source)
		return err
	})
	s.attempted(a, err)
	if err != nil {
		return nil, err
	}
	s.seated(a, out)
	s.Log.Info("hot-desk login", "person", out.Person.AOR(), "seat", seat.AOR(), "moved_from", out.MovedFrom,
		"replaced", out.Replaced, "source", source)
	return out, nil
}

// Logout ends the session of the person with hot-desk ID id, wherever
// they sit, if pin is their secret. It returns the ended session, or nil
// if they were not seated. Refusals are as for Login, with *073's switch.
func (s *Service) Logout(ctx context.Context, id, pin string, seat *store.Extension, source string) (*store.HotdeskSession, error) {
	a := &attempt{what: "logout", id: id, seat: seat, source: source, pre: s.precheck(ctx, id, pin)}
	var out *store.HotdeskSession
	err := s.try(ctx, a, pin, func(t *store.Tenant) bool { return t.HotdeskLogout }, func(tx *store.HotdeskTx, entry *store.HotdeskEntry) error {
		sess, err := tx.SessionOf(entry.Person.ID)
		if err != nil {
			return err
		}
		row := a.audit(entry, "logout", "ok")
		if sess == nil {
			row.Outcome, row.Detail = "not-seated", "*073: was not logged in"
			return tx.Audit(row)
		}
		if _, err := tx.EndSession(entry.Person.ID); err != nil {
			return err
		}
		out = sess
		row.Detail = "*073: left " + sess.Device
		return tx.Audit(row)
	})
	s.attempted(a, err)
	if err != nil {
		return nil, err
	}
	if out != nil {
		s.ended("*073", a.at, out)
		s.Log.Info("hot-desk logout", "person", out.Person, "seat", out.Device, "at", seat.AOR(), "source", source)
	}
	return out, nil
}

// try makes attempt a in one transaction: the seat tenant's switch (on),
// then the ID and password, then act with the verified entry. A refusal
// is committed, so that it counts and is audited, and then returned.
func (s *Service) try(ctx context.Context, a *attempt, pin string, on func(*store.Tenant) bool,
	act func(*store.HotdeskTx, *store.HotdeskEntry) error) error {
	var refusal error
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		refusal, a.at = nil, s.Now()
		t, err := tx.Tenant(a.seat.TenantID)
		if err != nil {
			return err
		}
		if !on(t) {
			refusal = ErrNotEnabled
			return nil
		}
		entry, err := s.verify(tx, a, pin)
		if errors.Is(err, ErrInvalid) {
			refusal = err
			return nil
		}
		if err != nil {
			return err
		}
		return act(tx, entry)
	})
	if err != nil {
		return err
	}
	return refusal
}

// seatPerson makes entry's person the one seated at seat, by *072 there. The order of
// the deletes does not matter for correctness: the UNIQUE constraints on
// the session table refuse any state with two of either.
func (s *Service) seatPerson(tx *store.HotdeskTx, entry *store.HotdeskEntry, seat *store.Extension, now time.Time, source string) (*Seated, error) {
	actor := seat.AOR()
	person := entry.Person
	prev, cur, err := tx.Seating(person.ID, seat.ID)
	if err != nil {
		return nil, err
	}
	out := &Seated{Person: person, Seat: seat, RingTarget: seat.AOR()}
	if entry.DialOverride != "" {
		out.RingTarget = entry.DialOverride
	}
	detail := "calls ring " + out.RingTarget
	if entry.DialOverride != "" {
		detail += " (the admin's dial string override stays)"
	}
	action := "login"
	if prev != nil {
		if _, err := tx.EndSession(person.ID); err != nil {
			return nil, err
		}
		if prev.DeviceID == seat.ID {
			detail = "already seated here, session restarted; " + detail
		} else {
			out.MovedFrom = prev.Device
			action = "move"
			detail = "moved from " + prev.Device + "; " + detail
		}
	}
	if cur != nil && cur.PersonID != person.ID {
		if _, err := tx.EndSession(cur.PersonID); err != nil {
			return nil, err
		}
		out.Replaced, out.replaced = cur.Person, cur
		if err := tx.Audit(store.AuditEntry{At: now, TenantID: cur.PersonTenantID, SeatTenantID: seat.TenantID,
			Actor: actor, Action: "replace", Person: cur.Person, Seat: seat.AOR(), Source: source,
			Outcome: "ok", Detail: "unseated by the login of " + person.AOR()}); err != nil {
			return nil, err
		}
	}
	if err := tx.StartSession(person.ID, seat.ID, now, store.SeatedByCode, source); err != nil {
		return nil, err
	}
	return out, tx.Audit(store.AuditEntry{At: now, TenantID: person.TenantID, SeatTenantID: seat.TenantID,
		Actor: actor, Action: action, Person: person.AOR(), Seat: seat.AOR(), Source: source,
		IDTried: entry.HotdeskID, Outcome: "ok", Detail: detail})
}

// decoyHash is checked against when there is no real secret to check.
var decoyHash = sync.OnceValue(func() string { return store.HashPIN("decoy-never-matches") })

// verify returns the entry if a.id and pin are right and neither the ID
// nor the seat is locked out. Any refusal is counted, audited and
// returned as ErrInvalid; the checks go from cheapest-to-abuse first, so
// a locked seat learns nothing about IDs.
func (s *Service) verify(tx *store.HotdeskTx, a *attempt, pin string) (*store.HotdeskEntry, error) {
	until, err := tx.LockedUntil(store.LockSeat, a.seatKey())
	if err != nil {
		return nil, err
	}
	if until.After(a.at) {
		return nil, s.refuse(tx, a, nil, "locked", "seat-locked", "this phone's *072/*073 is locked until "+clock(until), false, false)
	}
	entry, err := tx.Entry(a.id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, s.refuse(tx, a, nil, "failed", "unknown-id", "no such hot-desk ID", true, false)
	}
	if err != nil {
		return nil, err
	}
	until, err = tx.LockedUntil(store.LockID, entry.HotdeskID)
	if err != nil {
		return nil, err
	}
	if until.After(a.at) {
		// Not even a right password gets through: that would let a
		// guesser carry on during the lockout and learn from it.
		return nil, s.refuse(tx, a, entry, "locked", "id-locked", "the ID is locked until "+clock(until), true, false)
	}
	secret := entry.LoginSecret()
	if secret == "" {
		return nil, s.refuse(tx, a, entry, "failed", "no-secret", "no company PIN, hot-desk password or voicemail PIN is set", true, true)
	}
	ok := a.pre.ok
	if a.pre.secret != secret {
		// Changed since the precheck (an admin was quicker): check again.
		ok = store.CheckPIN(secret, pin)
	}
	if !ok {
		return nil, s.refuse(tx, a, entry, "failed", "wrong-pin", "wrong password", true, true)
	}
	return entry, tx.ClearFailures(store.LockID, entry.HotdeskID)
}

// refuse audits a refused attempt, counts it against the seat and/or the
// ID, locks either out when it reaches its limit, and returns ErrInvalid.
func (s *Service) refuse(tx *store.HotdeskTx, a *attempt, entry *store.HotdeskEntry, action, outcome, detail string, countSeat, countID bool) error {
	row := a.audit(entry, action, outcome)
	a.outcome = outcome
	row.Detail = a.what + " refused: " + detail
	if err := tx.Audit(row); err != nil {
		return err
	}
	if countSeat {
		n, err := tx.AddFailure(store.LockSeat, a.seatKey(), a.at, LockWindow)
		if err != nil {
			return err
		}
		if n >= SeatAttempts {
			if err := s.lock(tx, a, nil, store.LockSeat, a.seatKey(), n); err != nil {
				return err
			}
		}
	}
	if countID && entry != nil {
		n, err := tx.AddFailure(store.LockID, entry.HotdeskID, a.at, LockWindow)
		if err != nil {
			return err
		}
		if n >= IDAttempts {
			if err := s.lock(tx, a, entry, store.LockID, entry.HotdeskID, n); err != nil {
				return err
			}
		}
	}
	s.Log.Warn("hot-desk attempt refused", "what", a.what, "id", a.id, "seat", a.seat.AOR(), "source", a.source, "outcome", outcome)
	return ErrInvalid
}

func (s *Service) lock(tx *store.HotdeskTx, a *attempt, entry *store.HotdeskEntry, kind, key string, failures int) error {
	until := a.at.Add(LockFor)
	if err := tx.Lock(kind, key, until); err != nil {
		return err
	}
	a.lockouts++
	row := a.audit(entry, "lockout", kind)
	row.Actor = "system"
	if kind == store.LockSeat {
		row.Person, row.TenantID = "", a.seat.TenantID
		row.Detail = strconv.Itoa(failures) + " failed attempts from this phone: its *072/*073 is locked until " + clock(until)
	} else {
		row.Detail = strconv.Itoa(failures) + " failed attempts on ID " + key + ": locked until " + clock(until)
	}
	s.Log.Warn("hot-desk lockout", "kind", kind, "key", key, "seat", a.seat.AOR(), "until", until)
	return tx.Audit(row)
}

func (a *attempt) audit(entry *store.HotdeskEntry, action, outcome string) store.AuditEntry {
	row := store.AuditEntry{At: a.at, TenantID: a.seat.TenantID, SeatTenantID: a.seat.TenantID, Actor: a.seat.AOR(),
		Action: action, Seat: a.seat.AOR(), Source: a.source, IDTried: a.id, Outcome: outcome}
	if entry != nil {
		row.TenantID, row.Person = entry.Person.TenantID, entry.Person.AOR()
	}
	return row
}

func clock(t time.Time) string { return t.Format("15:04:05") }
