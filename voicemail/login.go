package voicemail

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"deskpbx/store"
)

// PIN guessing defence for *97/*98, the same shape as hot desking's: a
// mailbox and a phone each lock after so many failures in the window,
// and a locked one gets the same answer as a wrong PIN.
const (
	MailboxAttempts = 5
	PhoneAttempts   = 10
	LockWindow      = 15 * time.Minute
	LockFor         = 15 * time.Minute
)

// ErrInvalid is every refusal of a mailbox login: unknown mailbox, no
// PIN set, wrong PIN or locked out, so a guesser learns none of these.
var ErrInvalid = errors.New("voicemail: mailbox or PIN not valid")

// login is one try of a mailbox PIN from a phone.
type login struct {
	box    *store.Extension // nil: the number tried is no mailbox
	tried  string           // the mailbox number keyed (or the identity's)
	phone  *store.Extension // the phone's own registered extension
	source string
	at     time.Time
}

// decoyHash is checked when there is no real PIN, so no refusal answers
// faster than a wrong PIN.
var decoyHash = sync.OnceValue(func() string { return store.HashPIN("decoy-never-matches") })

// Authenticate checks pin for box (nil when the number keyed is no
// mailbox) from phone. Every attempt is audited, without the PIN, in the
// same transaction that counts it; any refusal is ErrInvalid.
func (s *Service) Authenticate(ctx context.Context, box *store.Extension, tried, pin string, phone *store.Extension, source string) error {
	a := &login{box: box, tried: tried, phone: phone, source: source}
	// PBKDF2 outside the write lock, as hot desking does.
	hash := decoyHash()
	if box != nil && box.PINHash != "" {
		hash = box.PINHash
	}
	ok := store.CheckPIN(hash, pin) && hash != decoyHash()
	var refused error
	err := s.db.MailboxTx(ctx, func(tx *store.MailboxTx) error {
		a.at, refused = s.db.Now(), nil
		until, err := tx.LockedUntil(store.LockPhone, mailboxKey(phone))
		if err != nil {
			return err
		}
		if until.After(a.at) {
			refused = ErrInvalid
			return s.refuse(tx, a, "phone-locked", false, false)
		}
		if box == nil {
			refused = ErrInvalid
			return s.refuse(tx, a, "unknown-mailbox", true, false)
		}
		if until, err = tx.LockedUntil(store.LockMailbox, mailboxKey(box)); err != nil {
			return err
		}
		if until.After(a.at) {
			refused = ErrInvalid
			return s.refuse(tx, a, "mailbox-locked", true, false)
		}
		if box.PINHash == "" {
			refused = ErrInvalid
			return s.refuse(tx, a, "no-pin", true, true)
		}
		if !ok {
			refused = ErrInvalid
			return s.refuse(tx, a, "wrong-pin", true, true)
		}
		if err := tx.ClearFailures(store.LockMailbox, mailboxKey(box)); err != nil {
			return err
		}
		return tx.Audit(a.audit("voicemail-login", "ok", "mailbox opened"))
	})
	if err != nil {
		return err
	}
	return refused
}

// refuse audits a refusal and counts it against the phone and/or the
// mailbox, locking either that reaches its limit.
func (s *Service) refuse(tx *store.MailboxTx, a *login, outcome string, countPhone, countBox bool) error {
	if err := tx.Audit(a.audit("voicemail-login", outcome, "mailbox login refused")); err != nil {
		return err
	}
	s.Log.Warn("voicemail login refused", "mailbox", a.tried, "phone", a.phone.AOR(), "source", a.source, "outcome", outcome)
	var budgets []store.Budget
	if countPhone {
		budgets = append(budgets, store.Budget{Kind: store.LockPhone, Key: mailboxKey(a.phone), Limit: PhoneAttempts, Window: LockWindow, LockFor: LockFor})
	}
	if countBox && a.box != nil {
		budgets = append(budgets, store.Budget{Kind: store.LockMailbox, Key: mailboxKey(a.box), Limit: MailboxAttempts, Window: LockWindow, LockFor: LockFor})
	}
	for _, b := range budgets {
		n, until, err := tx.Charge(b, a.at)
		if err != nil {
			return err
		}
		if until.IsZero() {
			continue
		}
		what, name := "phone", a.phone.AOR()
		if b.Kind == store.LockMailbox {
			what, name = "mailbox", a.box.AOR()
		}
		row := a.audit("voicemail-lockout", b.Kind, strconv.Itoa(n)+" failed voicemail logins: "+what+" "+name+
			" locked until "+until.Format("15:04:05"))
		row.Actor = "system"
		if err := tx.Audit(row); err != nil {
			return err
		}
		s.Log.Warn("voicemail lockout", "kind", b.Kind, "which", name, "until", until)
	}
	return nil
}

func (a *login) audit(action, outcome, detail string) store.AuditEntry {
	row := store.AuditEntry{At: a.at, TenantID: a.phone.TenantID, SeatTenantID: a.phone.TenantID, Actor: a.phone.AOR(),
		Action: action, Seat: a.phone.AOR(), Source: a.source, IDTried: a.tried, Outcome: outcome, Detail: detail}
	if a.box != nil {
		row.TenantID, row.Person = a.box.TenantID, a.box.AOR()
	}
	return row
}
