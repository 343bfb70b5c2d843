package hotdesk

import (
	"context"
	"errors"
	"strconv"
	"strings"
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

// verify returns the entry if a.id and pin are right and nothing it
// touches (seat, tenants, ID, secret) is locked out. Any refusal is
// counted, audited and returned as ErrInvalid; the checks go from
// cheapest-to-abuse first, so a locked seat learns nothing about IDs.
func (s *Service) verify(tx *store.HotdeskTx, a *attempt, pin string) (*store.HotdeskEntry, error) {
	if until, err := tx.LockedUntil(store.LockSeat, a.seatKey()); err != nil || until.After(a.at) {
		return nil, s.refuseLocked(tx, a, nil, err, "seat-locked", "this phone's *072/*073 is locked until "+clock(until))
	}
	seatTenant := tenantBudget(a.seat.TenantID)
	if until, err := tx.LockedUntil(seatTenant.Kind, seatTenant.Key); err != nil || until.After(a.at) {
		return nil, s.refuseLocked(tx, a, nil, err, "tenant-locked", "*072/*073 of this phone's tenant is locked until "+clock(until))
	}
	entry, err := tx.Entry(a.id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil, s.refuse(tx, a, nil, "failed", "unknown-id", "no such hot-desk ID", a.seatBudget(), seatTenant)
	}
	if err != nil {
		return nil, err
	}
	tenant := tenantBudget(entry.Person.TenantID)
	secret := entry.LoginSecret()
	// Not even a right password gets through a lockout: that would let
	// a guesser carry on during it and learn from it.
	for _, l := range []struct {
		b       store.Budget
		outcome string
		what    string
	}{
		{tenant, "tenant-locked", "hot desking of the ID's tenant"},
		{idBudget(entry.HotdeskID), "id-locked", "the ID"},
		{secretBudget(secret), "secret-locked", "the ID's password"},
	} {
		if l.b.Key == "" {
			continue
		}
		until, err := tx.LockedUntil(l.b.Kind, l.b.Key)
		if err != nil {
			return nil, err
		}
		if until.After(a.at) {
			return nil, s.refuse(tx, a, entry, "locked", l.outcome, l.what+" is locked until "+clock(until), a.seatBudget())
		}
	}
	if secret == "" {
		return nil, s.refuse(tx, a, entry, "failed", "no-secret", "no company PIN, hot-desk password or voicemail PIN is set",
			a.seatBudget(), idBudget(entry.HotdeskID), tenant)
	}
	ok := a.pre.ok
	if a.pre.secret != secret {
		// Changed since the precheck (an admin was quicker): check again.
		ok = store.CheckPIN(secret, pin)
	}
	if !ok {
		return nil, s.refuse(tx, a, entry, "failed", "wrong-pin", "wrong password",
			a.seatBudget(), idBudget(entry.HotdeskID), secretBudget(secret), tenant)
	}
	// Only the ID's own count is forgiven: the secret's and the tenant's
	// are shared, and the logins of the people who know the company PIN
	// must not keep resetting a guesser's budget.
	return entry, tx.ClearFailures(store.LockID, entry.HotdeskID)
}

// The budgets an attempt is counted against. An ID has few tries because
// its owner can be told to call the admin; a seat more, as honest typos
// from a shared phone add up; a secret (a company PIN is shared by every
// ID of a tenant) and a tenant more still, as they add up the typos of
// many people, but few enough that guesses spread over IDs or phones stop.
func (a *attempt) seatBudget() store.Budget {
	return store.Budget{Kind: store.LockSeat, Key: a.seatKey(), Limit: SeatAttempts, Window: LockWindow, LockFor: LockFor}
}

func idBudget(id string) store.Budget {
	return store.Budget{Kind: store.LockID, Key: id, Limit: IDAttempts, Window: LockWindow, LockFor: LockFor}
}

// secretBudget is the budget of secretHash; its Key is "" when there is no secret.
func secretBudget(secretHash string) store.Budget {
	b := store.Budget{Kind: store.LockID, Limit: SecretAttempts, Window: LockWindow, LockFor: LockFor}
	if secretHash != "" {
		b.Key = store.SecretBudgetKey(secretHash)
	}
	return b
}

func tenantBudget(tenantID int64) store.Budget {
	return store.Budget{Kind: store.LockID, Key: store.TenantBudgetKey(tenantID), Limit: TenantAttempts, Window: LockWindow, LockFor: LockFor}
}

// refuseLocked refuses an attempt at a locked seat or tenant, counting
// nothing; err, when not nil, is returned instead.
func (s *Service) refuseLocked(tx *store.HotdeskTx, a *attempt, entry *store.HotdeskEntry, err error, outcome, detail string) error {
	if err != nil {
		return err
	}
	return s.refuse(tx, a, entry, "locked", outcome, detail)
}

// refuse audits a refused attempt, counts it against budgets, locks out
// each that reaches its limit, and returns ErrInvalid.
func (s *Service) refuse(tx *store.HotdeskTx, a *attempt, entry *store.HotdeskEntry, action, outcome, detail string, budgets ...store.Budget) error {
	row := a.audit(entry, action, outcome)
	a.outcome = outcome
	row.Detail = a.what + " refused: " + detail
	if err := tx.Audit(row); err != nil {
		return err
	}
	for _, b := range budgets {
		if b.Key == "" {
			continue
		}
		n, until, err := tx.Charge(b, a.at)
		if err != nil {
			return err
		}
		if !until.IsZero() {
			if err := s.locked(tx, a, entry, b, n, until); err != nil {
				return err
			}
		}
	}
	s.Log.Warn("hot-desk attempt refused", "what", a.what, "id", a.id, "seat", a.seat.AOR(), "source", a.source, "outcome", outcome)
	return ErrInvalid
}

// locked audits the lockout of budget b that a's failure began.
func (s *Service) locked(tx *store.HotdeskTx, a *attempt, entry *store.HotdeskEntry, b store.Budget, failures int, until time.Time) error {
	a.lockouts++
	kind, of := b.Kind, "on ID "+b.Key+":"
	switch {
	case b.Kind == store.LockSeat:
		of = "from this phone: its *072/*073 is"
	case strings.HasPrefix(b.Key, "secret:"):
		kind, of = "secret", "against the password of ID "+entry.HotdeskID+" (company PIN: every ID of the tenant):"
	case strings.HasPrefix(b.Key, "tenant:"):
		kind, of = "tenant", "on the tenant's IDs and phones: hot desking of the tenant is"
	}
	row := a.audit(entry, "lockout", kind)
	row.Actor = "system"
	if b.Kind == store.LockSeat {
		row.Person, row.TenantID = "", a.seat.TenantID
	}
	row.Detail = strconv.Itoa(failures) + " failed attempts " + of + " locked until " + clock(until)
	s.Log.Warn("hot-desk lockout", "kind", kind, "key", b.Key, "seat", a.seat.AOR(), "until", until)
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
