package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/smtp"
	"strings"
	"time"

	"deskpbx/dialplan"
	"deskpbx/store"
	"deskpbx/webhook"
)

// mailFlags are serve's settings for sending e-mail: the emergency-call
// notice to a tenant's -notify-email address.
type mailFlags struct {
	addr string // HOST:PORT of an SMTP relay that takes our mail unauthenticated; "" sends none
	from string
}

func (m *mailFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&m.addr, "smtp-addr", envOr("DESKPBX_SMTP_ADDR", ""), "SMTP relay HOST:PORT for notices (emergency calls); none sent when empty (DESKPBX_SMTP_ADDR)")
	fs.StringVar(&m.from, "smtp-from", envOr("DESKPBX_SMTP_FROM", "deskpbx@localhost"), "sender address of notices (DESKPBX_SMTP_FROM)")
}

// emergencyNotice is the on-site notification of emergency calls: a log
// line at the highest level (the dashboard shows the call from the audit
// log), the tenant's emergency.call webhook event, and an e-mail to its
// notification address when SMTP is set up.
type emergencyNotice struct {
	log  *slog.Logger
	db   *store.DB
	mail mailFlags

	webhooks *webhook.Service // nil: no events
	ctx      context.Context  // the server's, for the event outbox
}

// emergencyEvent is the data of an emergency.call webhook event.
type emergencyEvent struct {
	Number   string         `json:"number"`
	Phone    webhook.Party  `json:"phone"`
	Person   *webhook.Party `json:"person,omitempty"`
	CallerID string         `json:"caller_id"`
	Trunk    string         `json:"trunk"`
}

// call tells of one emergency call; the call's goroutine runs it, so the
// event is recorded within a bound and the e-mail goes on its own.
func (n *emergencyNotice) call(e dialplan.EmergencyCall) {
	n.log.Error("EMERGENCY CALL placed", "tenant", e.Domain, "phone", e.Phone, "person", e.Person,
		"number", e.Number, "caller_id", e.CallerID, "trunk", e.Trunk)
	if n.webhooks != nil {
		data := emergencyEvent{Number: e.Number, Phone: webhook.PartyOfAOR(e.Phone), CallerID: e.CallerID, Trunk: e.Trunk}
		if e.Person != "" {
			p := webhook.PartyOfAOR(e.Person)
			data.Person = &p
		}
		emit(n.ctx, n.webhooks, e.TenantID, webhook.EmergencyCall, data, n.log)
	}
	if n.mail.addr == "" {
		return
	}
	go func() {
		if err := mailEmergency(n.db, n.mail, e); err != nil {
			n.log.Error("emergency call e-mail not sent", "tenant", e.Domain, "err", err)
		}
	}()
}

func mailEmergency(db *store.DB, mail mailFlags, e dialplan.EmergencyCall) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	settings, err := db.TenantOutside(ctx, e.TenantID)
	if err != nil || settings.NotifyEmail == "" {
		return err
	}
	person := "nobody was logged in there"
	if e.Person != "" {
		person = e.Person + " was logged in there"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: Emergency call %s from %s\r\nDate: %s\r\n", mail.from, settings.NotifyEmail,
		e.Number, e.Phone, e.At.Format(time.RFC1123Z))
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "An emergency call to %s was placed at %s from the phone %s (%s).\r\n", e.Number, e.At.Format("15:04:05 on 2006-01-02"), e.Phone, person)
	fmt.Fprintf(&b, "It went out on trunk %s with caller ID %s.\r\n", e.Trunk, e.CallerID)
	return smtp.SendMail(mail.addr, nil, mail.from, []string{settings.NotifyEmail}, []byte(b.String()))
}
