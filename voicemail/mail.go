package voicemail

import (
	"context"
	"crypto/tls"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"

	"deskpbx/internal/outbox"
	"deskpbx/store"
)

// Mailer mails each new message, with its audio attached, to the
// mailbox's e-mail address through the tenant's SMTP server. What to
// mail is an outbox row the database writes with the message's own row
// (see migration 0009), so neither a crash nor a server that is down
// loses a mail: a failed send is tried again, ever later, until it goes.
// A message is deleted after mailing only when the tenant asks for it,
// and only once the server took the mail.
type Mailer struct {
	vm *Service
	// FirstRetry is the wait after the first failure, doubled after each
	// one up to MaxRetry (defaults 1 min and 1 h).
	FirstRetry, MaxRetry time.Duration
	// Timeout bounds one attempt: connection, TLS, login and data.
	Timeout time.Duration
	kick    outbox.Kick
}

// NewMailer mails vm's new messages once Run runs.
func NewMailer(vm *Service) *Mailer {
	return &Mailer{vm: vm, FirstRetry: time.Minute, MaxRetry: time.Hour, Timeout: 30 * time.Second, kick: outbox.NewKick()}
}

// Kick makes Run look at the outbox now, e.g. after a deposit. It never
// blocks.
func (m *Mailer) Kick() { m.kick.Wake() }

// idleCheck bounds the wait between looks at the outbox, so mail queued
// while no server was set goes out soon after one is.
const idleCheck = time.Minute

// Run sends due mail until ctx ends.
func (m *Mailer) Run(ctx context.Context) {
	db := m.vm.db
	outbox.Loop(ctx, m.kick, idleCheck, db.Now, db.NextMailDue, m.sendDue)
}

func (m *Mailer) sendDue(ctx context.Context) {
	db, log := m.vm.db, m.vm.Log
	for ctx.Err() == nil {
		jobs, err := db.DueMailJobs(ctx, db.Now(), 20)
		if err != nil || len(jobs) == 0 {
			if err != nil && ctx.Err() == nil {
				log.Warn("reading the voicemail mail outbox", "err", err)
			}
			return
		}
		for _, j := range jobs {
			if ctx.Err() != nil {
				return
			}
			m.attempt(ctx, j)
		}
	}
}

func (m *Mailer) attempt(ctx context.Context, j *store.MailJob) {
	db, log := m.vm.db, m.vm.Log
	err := m.send(ctx, j)
	if ctx.Err() != nil {
		return // shutting down: the row stays due
	}
	if err != nil {
		retry := m.backoff(j.Attempts + 1)
		log.Warn("voicemail e-mail not sent; will retry", "mailbox", j.Box.AOR(), "to", j.To, "attempt", j.Attempts+1, "retry_in", retry, "err", err)
		if err := db.MailFailed(ctx, j.ID, err.Error(), db.Now().Add(retry)); err != nil {
			log.Error("recording a failed voicemail e-mail", "err", err)
		}
		return
	}
	if err := db.MailSent(ctx, j.ID); err != nil {
		log.Error("recording a sent voicemail e-mail (it may be sent again)", "err", err)
		return
	}
	log.Info("voicemail e-mailed", "mailbox", j.Box.AOR(), "to", j.To, "message", j.Message.ID)
	if j.SMTP.DeleteAfter {
		if err := m.vm.Delete(ctx, &j.Box, &j.Message); err != nil {
			log.Warn("deleting a mailed voicemail", "message", j.Message.ID, "err", err)
		}
	}
}

func (m *Mailer) backoff(n int) time.Duration {
	d := m.FirstRetry
	for i := 1; i < n && d < m.MaxRetry; i++ {
		d *= 2
	}
	return min(d, m.MaxRetry)
}

// Subject is the subject line of a message's mail: caller and time.
func Subject(j *store.MailJob) string {
	from := j.Message.CallerNumber
	if from == "" {
		from = "an unknown caller"
	}
	if j.Message.CallerName != "" {
		from += " (" + j.Message.CallerName + ")"
	}
	return fmt.Sprintf("Voicemail for %s from %s at %s", j.Box.Number, from, j.Message.At.Local().Format("2006-01-02 15:04 MST"))
}

// send mails one message once.
func (m *Mailer) send(ctx context.Context, j *store.MailJob) error {
	msg := gomail.NewMsg()
	if err := msg.From(j.SMTP.From); err != nil {
		return err
	}
	if err := msg.To(j.To); err != nil {
		return err
	}
	msg.Subject(Subject(j))
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, fmt.Sprintf("%s\r\nDuration: %s\r\nMailbox: %s\r\n\r\nThe message is attached as a WAV file.\r\n",
		Subject(j), j.Message.Duration.Round(time.Second), j.Box.AOR()))
	f, err := m.vm.Open(j.Message.File)
	if err != nil {
		return fmt.Errorf("the message's audio: %w", err)
	}
	defer f.Close()
	name := fmt.Sprintf("voicemail-%s-%s.wav", j.Box.Number, j.Message.At.UTC().Format("20060102-150405"))
	if err := msg.AttachReader(name, f, gomail.WithFileContentType("audio/wav")); err != nil {
		return err
	}
	// Verified always: against the tenant's own certificate for a local
	// relay, else the system's roots.
	tlsConf := &tls.Config{ServerName: j.SMTP.Host, MinVersion: tls.VersionTLS12, RootCAs: j.SMTP.TrustedRoots()}
	opts := []gomail.Option{gomail.WithPort(j.SMTP.Port), gomail.WithTimeout(m.Timeout), gomail.WithTLSConfig(tlsConf)}
	switch j.SMTP.Security {
	case store.SMTPTLS:
		opts = append(opts, gomail.WithSSL())
	case store.SMTPStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	// Never a password in the clear, whatever a row stored before the
	// settings refused that says.
	if j.SMTP.Username != "" && j.SMTP.Security != store.SMTPNone {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(j.SMTP.Username), gomail.WithPassword(j.SMTP.Password))
	}
	c, err := gomail.NewClient(j.SMTP.Host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}
