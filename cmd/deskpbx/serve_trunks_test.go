package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskpbx/dialplan"
	"deskpbx/store"
	"deskpbx/webhook"
)

// smtpSink is a minimal SMTP server on loopback that hands over each
// message it accepts.
func smtpSink(t *testing.T) (addr string, mails <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serveSMTP(c, ch)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), ch
}

func serveSMTP(c net.Conn, mails chan<- string) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	io.WriteString(c, "220 sink ready\r\n")
	var envelope []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			io.WriteString(c, "250 sink\r\n")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			envelope = append(envelope, strings.TrimSpace(line))
			io.WriteString(c, "250 OK\r\n")
		case cmd == "DATA":
			io.WriteString(c, "354 go on\r\n")
			var msg strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			mails <- strings.Join(envelope, "\n") + "\n" + msg.String()
			io.WriteString(c, "250 queued\r\n")
		case cmd == "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			io.WriteString(c, "250 OK\r\n")
		}
	}
}

// An emergency call e-mails the tenant's notification address, saying
// which phone, who sat there and the caller ID sent, and queues the
// tenant's emergency.call webhook event.
func TestEmergencyCallIsMailedToTheTenant(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(filepath.Join(t.TempDir(), "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ten, err := db.CreateTenant(ctx, "acme.example", "", false)
	if err != nil {
		t.Fatal(err)
	}
	email := "reception@acme.example"
	if _, err := db.SetTenantOutside(ctx, "acme.example", store.TenantOutsideSettings{NotifyEmail: &email}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateWebhook(ctx, "acme.example", "https://hooks.acme.example/pbx", webhook.NewSecret()); err != nil {
		t.Fatal(err)
	}
	addr, mails := smtpSink(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	notice := &emergencyNotice{log: log, db: db, mail: mailFlags{addr: addr, from: "pbx@acme.example"}, webhooks: webhook.New(db, log), ctx: ctx}
	notice.call(dialplan.EmergencyCall{At: time.Now(), TenantID: ten.ID, Domain: "acme.example", Phone: "2002@acme.example",
		Person: "1001@acme.example", Number: "911", CallerID: "+15550160", Trunk: "main"})
	select {
	case m := <-mails:
		for _, want := range []string{"RCPT TO:<reception@acme.example>", "Subject: Emergency call 911 from 2002@acme.example",
			"1001@acme.example was logged in there", "caller ID +15550160"} {
			if !strings.Contains(m, want) {
				t.Errorf("mail lacks %q:\n%s", want, m)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no mail reached the SMTP server")
	}
	// And the tenant's webhook has the event waiting in its outbox.
	due, err := db.DueWebhookDeliveries(ctx, 10)
	if err != nil || len(due) != 1 || due[0].Event != webhook.EmergencyCall ||
		!strings.Contains(string(due[0].Body), `"caller_id":"+15550160"`) || !strings.Contains(string(due[0].Body), `"number":"911"`) {
		t.Fatalf("webhook outbox: %+v, %v", due, err)
	}
}
