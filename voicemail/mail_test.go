package voicemail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"deskpbx/store"
)

// smtpInbox is a real SMTP server on loopback (go-smtp) keeping what it
// is sent. With a user it requires a login, and keeps every login it is
// offered.
type smtpInbox struct {
	mails      chan received
	user, pass string
	logins     chan smtpLogin
}

type received struct {
	from, to string
	data     []byte
	overTLS  bool
}

type smtpLogin struct {
	user, pass string
	overTLS    bool
}

func (b *smtpInbox) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &smtpSession{in: b, conn: c}, nil
}

type smtpSession struct {
	in       *smtpInbox
	conn     *smtp.Conn
	authed   bool
	from, to string
}

func (s *smtpSession) overTLS() bool {
	_, ok := s.conn.TLSConnectionState()
	return ok
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.in.logins <- smtpLogin{user, pass, s.overTLS()}
		if user != s.in.user || pass != s.in.pass {
			return errors.New("bad login")
		}
		s.authed = true
		return nil
	}), nil
}

func (s *smtpSession) Reset()        {}
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.in.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.in.mails <- received{s.from, s.to, b, s.overTLS()}
	return err
}

// serveSMTP serves an inbox on ln until the test ends; tweak, if given,
// sets the server up further.
func serveSMTP(t *testing.T, ln net.Listener, tweak ...func(*smtp.Server, *smtpInbox)) *smtpInbox {
	in := &smtpInbox{mails: make(chan received, 8), logins: make(chan smtpLogin, 8)}
	srv := smtp.NewServer(in)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	for _, f := range tweak {
		f(srv, in)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return in
}

func (in *smtpInbox) next(t *testing.T, ctx context.Context) received {
	t.Helper()
	select {
	case m := <-in.mails:
		return m
	case <-ctx.Done():
		t.Fatal("no mail reached the SMTP server")
	}
	return received{}
}

// attachment returns the subject and the decoded WAV attachment of a mail.
func attachment(t *testing.T, raw []byte) (subject string, wav []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no attachment in the mail:\n%s", raw)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "audio/wav") {
			continue
		}
		body, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" {
			if body, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), "")); err != nil {
				t.Fatal(err)
			}
		}
		return subject, body
	}
}

func mailOffice(t *testing.T, port int, deleteAfter bool) (*Service, *store.Extension, *store.DB) {
	t.Helper()
	return mailingOffice(t, store.SMTPSettings{Port: port, Security: store.SMTPNone, DeleteAfter: deleteAfter})
}

// mailingOffice is acme with Ada's mailbox mailed to her address through
// the server st describes on 127.0.0.1.
func mailingOffice(t *testing.T, st store.SMTPSettings) (*Service, *store.Extension, *store.DB) {
	t.Helper()
	db, ada, _ := testDB(t)
	ctx := context.Background()
	st.TenantID, st.Host, st.From = ada.TenantID, "127.0.0.1", "voicemail@acme.example"
	if err := db.SetSMTPSettings(ctx, st); err != nil {
		t.Fatal(err)
	}
	email := "ada@acme.example"
	if err := db.SetMailbox(ctx, ada.ID, store.MailboxChange{Email: &email}); err != nil {
		t.Fatal(err)
	}
	s, err := New(ctx, db, filepath.Join(t.TempDir(), "vm"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, ada, db
}

func listen(t *testing.T) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// A message left for Ada is mailed to her address through acme's SMTP
// server: caller and time in the subject, the WAV attached byte for
// byte; with delete-after-mailing the mailbox is then empty.
func TestNewMessageIsMailedWithItsAudio(t *testing.T) {
	ln := listen(t)
	inbox := serveSMTP(t, ln)
	s, ada, _ := mailOffice(t, ln.Addr().(*net.TCPAddr).Port, true)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	mailer := NewMailer(s)
	go mailer.Run(ctx)
	m, err := s.Deposit(ctx, ada, Caller{Number: "5551", Name: "Grace"}, tone(440, 2))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(s.Dir, m.File))
	mailer.Kick()
	got := inbox.next(t, ctx)
	if got.to != "ada@acme.example" || got.from != "voicemail@acme.example" {
		t.Errorf("mail from %q to %q", got.from, got.to)
	}
	subject, wav := attachment(t, got.data)
	if !strings.Contains(subject, "5551") || !strings.Contains(subject, "Grace") || !strings.Contains(subject, m.At.Local().Format("2006-01-02 15:04")) {
		t.Errorf("subject %q: want the caller and the time", subject)
	}
	if !bytes.Equal(wav, want) || len(want) < 44+2*16000 {
		t.Errorf("the attachment is %d bytes, the message's file %d: not the same", len(wav), len(want))
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ms, _ := s.Messages(ctx, ada); len(ms) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mailed message was not deleted (delete after mailing is on)")
		}
	}
}

// Only mailboxes with an address, of tenants with a server, queue mail.
func TestNoMailQueuedWithoutAnAddress(t *testing.T) {
	db, ada, desk := testDB(t)
	ctx := context.Background()
	s, err := New(ctx, db, filepath.Join(t.TempDir(), "vm"), nil)
	if err != nil {
		t.Fatal(err)
	}
	email := "ada@acme.example"
	db.SetMailbox(ctx, ada.ID, store.MailboxChange{Email: &email})
	s.Deposit(ctx, ada, Caller{Number: "5551"}, tone(440, 1.2)) // no server yet
	if err := db.SetSMTPSettings(ctx, store.SMTPSettings{TenantID: ada.TenantID, Host: "127.0.0.1", Port: 25,
		Security: store.SMTPNone, From: "voicemail@acme.example"}); err != nil {
		t.Fatal(err)
	}
	s.Deposit(ctx, desk, Caller{Number: "5551"}, tone(440, 1.2)) // no address
	if n, _, err := db.MailQueued(ctx, ada.TenantID); err != nil || n != 0 {
		t.Errorf("%d mails queued (%v), want none", n, err)
	}
	s.Deposit(ctx, ada, Caller{Number: "5552"}, tone(440, 1.2))
	if n, _, _ := db.MailQueued(ctx, ada.TenantID); n != 1 {
		t.Errorf("%d mails queued, want the one for Ada's address", n)
	}
}

// The mail server is down when the message arrives: the message stays,
// the attempt is recorded, and once the server is up the retry delivers.
func TestMailRetriedUntilTheServerIsUp(t *testing.T) {
	ln := listen(t)
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: connections are refused
	s, ada, db := mailOffice(t, port, false)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	mailer := NewMailer(s)
	mailer.FirstRetry, mailer.MaxRetry = 50*time.Millisecond, 200*time.Millisecond
	m, err := s.Deposit(ctx, ada, Caller{Number: "5551"}, tone(440, 1.5))
	if err != nil {
		t.Fatal(err)
	}
	go mailer.Run(ctx)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, lastErr, err := db.MailQueued(ctx, ada.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && lastErr != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %d queued, last error %q", n, lastErr)
		}
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port %d was taken meanwhile: %v", port, err)
	}
	inbox := serveSMTP(t, ln2)
	_, wav := attachment(t, inbox.next(t, ctx).data)
	want, _ := os.ReadFile(filepath.Join(s.Dir, m.File))
	if !bytes.Equal(wav, want) {
		t.Errorf("the retried mail's attachment differs from the message")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _, _ := db.MailQueued(ctx, ada.TenantID); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sent mail stays queued")
		}
	}
	if ms, _ := s.Messages(ctx, ada); len(ms) != 1 {
		t.Errorf("the mailbox holds %d messages, want the message kept", len(ms))
	}
}
