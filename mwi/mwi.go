// Package mwi serves message-waiting lights (RFC 3842, the
// message-summary event package) that follow the person: a phone shows
// the mailbox of the identity it carries, the hot-desker seated there or
// else its own extension, and a login or logout at a seat switches the
// seat's light at once.
//
// It imports no pbx and no voicemail: Lights satisfies pbx.EventPackage
// by its method set, and the binary hands it pbx's Notify and
// NotifyUnsolicited and the voicemail store's counts.
package mwi

import (
	"context"
	"fmt"
	"strconv"

	"deskpbx/store"
)

// Event is the package name; ContentType its body's type.
const (
	Event       = "message-summary"
	ContentType = "application/simple-message-summary"
)

// Summary is an RFC 3842 body for the mailbox of account (a SIP URI)
// holding newMsgs unheard and oldMsgs saved voice messages.
func Summary(account string, newMsgs, oldMsgs int) []byte {
	waiting := "no"
	if newMsgs > 0 {
		waiting = "yes"
	}
	return fmt.Appendf(nil, "Messages-Waiting: %s\r\nMessage-Account: %s\r\nVoice-Message: %d/%d (0/0)\r\n",
		waiting, account, newMsgs, oldMsgs)
}

// Mailboxes counts a person's messages (the voicemail package).
type Mailboxes interface {
	Counts(ctx context.Context, mailbox *store.Extension) (newMsgs, saved int, err error)
}

// Seating says who sits where (the hot-desk service).
type Seating interface {
	// PersonAt is who is seated at the phone registered as device.
	PersonAt(ctx context.Context, device *store.Extension) (*store.Extension, bool)
	// RingTarget is the seat a person's calls ring at, if not their own.
	RingTarget(ctx context.Context, person *store.Extension) (*store.Extension, bool)
}

// Directory finds a phone's extension and its tenant by ID; *store.DB
// is one.
type Directory interface {
	ExtensionByID(ctx context.Context, id int64) (*store.Extension, error)
	TenantByID(ctx context.Context, id int64) (*store.Tenant, error)
}

// Lights is the message-summary package. Set its fields before use.
type Lights struct {
	Dir       Directory
	Mailboxes Mailboxes
	Seating   Seating // nil when nobody hot-desks
	// Notify tells the subscribers of a phone's light that it changed
	// (pbx's Server.Notify).
	Notify func(event, resource string)
	// Unsolicited, if set, sends the body to the phones of ext that did
	// not subscribe (pbx's Server.NotifyUnsolicited); nil turns that off,
	// as does the phone's tenant (Tenant.MWIUnsolicited).
	Unsolicited func(ctx context.Context, ext *store.Extension, event, contentType string, body []byte) (int, error)
}

// Resource is the name a phone's light goes by: the light is the
// phone's, whoever's mailbox it shows.
func Resource(phone *store.Extension) string { return strconv.FormatInt(phone.ID, 10) }

// carried is the identity phone carries: the person seated there, else
// the phone's own extension.
func (l *Lights) carried(ctx context.Context, phone *store.Extension) *store.Extension {
	if l.Seating != nil {
		if p, ok := l.Seating.PersonAt(ctx, phone); ok {
			return p
		}
	}
	return phone
}

// Authorize lets a phone watch only the mailbox it shows: its own
// extension's or its hot-desker's. Anything else, of any tenant, gets
// the same refusal.
func (l *Lights) Authorize(ctx context.Context, phone *store.Extension, target string) (string, bool) {
	if target == phone.Number {
		return Resource(phone), true
	}
	if p := l.carried(ctx, phone); p != phone && p.Number == target {
		return Resource(phone), true
	}
	return "", false
}

// Body is the summary of the mailbox the phone shows now. Without counts
// it is empty: a NOTIFY without state is better than a wrong light.
func (l *Lights) Body(ctx context.Context, resource string, _ uint32) (string, []byte) {
	id, err := strconv.ParseInt(resource, 10, 64)
	if err != nil {
		return "", nil
	}
	phone, err := l.Dir.ExtensionByID(ctx, id)
	if err != nil {
		return "", nil
	}
	return l.body(ctx, phone)
}

func (l *Lights) body(ctx context.Context, phone *store.Extension) (string, []byte) {
	box := l.carried(ctx, phone)
	n, saved, err := l.Mailboxes.Counts(ctx, box)
	if err != nil {
		return "", nil
	}
	return ContentType, Summary("sip:"+box.AOR(), n, saved)
}

// SeatChanged switches the light of seat after a hot-desk login or
// logout (including auto- and force-logout) there: call it once the
// change is committed.
func (l *Lights) SeatChanged(ctx context.Context, seat *store.Extension) { l.push(ctx, seat) }

// MailboxChanged updates every phone showing mailbox: the person's own
// phone and the seat they sit at. Call it when a message arrives, is
// heard or is deleted.
func (l *Lights) MailboxChanged(ctx context.Context, mailbox *store.Extension) {
	l.push(ctx, mailbox)
	if l.Seating != nil {
		if seat, ok := l.Seating.RingTarget(ctx, mailbox); ok && seat.ID != mailbox.ID {
			l.push(ctx, seat)
		}
	}
}

// push tells the phone's subscribers, and its phones that never
// subscribed, what it shows now.
func (l *Lights) push(ctx context.Context, phone *store.Extension) {
	if l.Notify != nil {
		l.Notify(Event, Resource(phone))
	}
	if l.Unsolicited != nil && l.unsolicitedOn(ctx, phone) {
		if ct, body := l.body(ctx, phone); body != nil {
			l.Unsolicited(ctx, phone, Event, ct, body)
		}
	}
}

// unsolicitedOn says whether the tenant of phone wants its phones that
// do not subscribe told anyway. The light is the phone's, so it is the
// phone's tenant that decides, whoever sits there. Unknown: no NOTIFY,
// as a tenant may have turned them off for phones that show them wrong.
func (l *Lights) unsolicitedOn(ctx context.Context, phone *store.Extension) bool {
	t, err := l.Dir.TenantByID(ctx, phone.TenantID)
	return err == nil && t.MWIUnsolicited
}
