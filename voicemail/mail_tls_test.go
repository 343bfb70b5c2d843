package voicemail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"deskpbx/store"
)

// selfSigned is a certificate for 127.0.0.1 signed by itself, as an
// office's own mail relay has: its PEM and the server's key pair.
func selfSigned(t *testing.T, name string) (string, tls.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return string(certPEM), pair
}

// How a secure inbox listens.
const (
	startTLS    = "starttls"     // plain port, STARTTLS offered
	implicitTLS = "tls"          // TLS from the first byte (SMTPS)
	plainAuth   = "plain + auth" // no TLS at all, AUTH offered anyway
)

// serveSecure is serveSMTP speaking TLS with cert as mode says, and
// requiring a login when user is set.
func serveSecure(t *testing.T, ln net.Listener, mode string, cert tls.Certificate, user, pass string) *smtpInbox {
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	if mode == implicitTLS {
		ln = tls.NewListener(ln, cfg)
	}
	return serveSMTP(t, ln, func(srv *smtp.Server, in *smtpInbox) {
		in.user, in.pass = user, pass
		switch mode {
		case startTLS:
			srv.TLSConfig = cfg
		case plainAuth:
			srv.AllowInsecureAuth = true
		}
	})
}

// secureOffice is acme with Ada's mailbox mailed through st, a message
// of hers deposited and a mailer running with short retries.
func secureOffice(t *testing.T, ctx context.Context, st store.SMTPSettings) (*Service, *store.DB, *store.Extension, *store.VoicemailMessage) {
	t.Helper()
	s, ada, db := mailingOffice(t, st)
	m, err := s.Deposit(ctx, ada, Caller{Number: "5551", Name: "Grace"}, tone(440, 1.5))
	if err != nil {
		t.Fatal(err)
	}
	mailer := NewMailer(s)
	mailer.FirstRetry, mailer.MaxRetry, mailer.Timeout = 50*time.Millisecond, 200*time.Millisecond, 5*time.Second
	go mailer.Run(ctx)
	return s, db, ada, m
}

// failedWith waits until the queued mail's last attempt failed with an
// error containing want, and checks the message is still queued and in
// the mailbox.
func failedWith(t *testing.T, ctx context.Context, s *Service, db *store.DB, ada *store.Extension, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		n, lastErr, err := db.MailQueued(ctx, ada.TenantID)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 && strings.Contains(lastErr, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt with %q recorded: %d queued, last error %q", want, n, lastErr)
		}
	}
	if ms, _ := s.Messages(ctx, ada); len(ms) != 1 {
		t.Fatalf("after a failed send the mailbox holds %d messages, want the message kept", len(ms))
	}
}

// trust makes acme's mail server settings trust certPEM.
func trust(t *testing.T, ctx context.Context, db *store.DB, ada *store.Extension, certPEM string) {
	t.Helper()
	st, err := db.SMTPSettingsOf(ctx, ada.TenantID)
	if err != nil {
		t.Fatal(err)
	}
	st.CAPEM, st.Password = certPEM, ""
	if err := db.SetSMTPSettings(ctx, *st); err != nil {
		t.Fatal(err)
	}
}

// sameAudio checks a mail's attachment is the message's file.
func sameAudio(t *testing.T, s *Service, m *store.VoicemailMessage, got received) {
	t.Helper()
	_, wav := attachment(t, got.data)
	want, _ := os.ReadFile(filepath.Join(s.Dir, m.File))
	if !bytes.Equal(wav, want) || len(want) < 44+2*12000 {
		t.Errorf("the attachment is %d bytes, the message's file %d: not the same", len(wav), len(want))
	}
}

// acme's mail relay on the LAN speaks STARTTLS with a self-signed
// certificate and wants a login. Trusting another certificate, the send
// fails on the certificate and the message waits in the outbox; once the
// admin pastes the relay's own certificate the retry delivers it, over
// TLS, and the relay's first login came over TLS too.
func TestMailOverSTARTTLSTrustsOnlyTheRelaysCertificate(t *testing.T) {
	relayPEM, relayCert := selfSigned(t, "relay.acme.example")
	otherPEM, _ := selfSigned(t, "somebody-else")
	ln := listen(t)
	inbox := serveSecure(t, ln, startTLS, relayCert, "vm", "Smtp-Secret-99")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, db, ada, m := secureOffice(t, ctx, store.SMTPSettings{Port: ln.Addr().(*net.TCPAddr).Port, Security: store.SMTPStartTLS,
		Username: "vm", Password: "Smtp-Secret-99", CAPEM: otherPEM})
	failedWith(t, ctx, s, db, ada, "certificate")

	trust(t, ctx, db, ada, relayPEM)
	got := inbox.next(t, ctx)
	if !got.overTLS || got.to != "ada@acme.example" {
		t.Errorf("mail to %q, over TLS %v; want Ada's, over TLS", got.to, got.overTLS)
	}
	sameAudio(t, s, m, got)
	select {
	case l := <-inbox.logins:
		if !l.overTLS || l.user != "vm" || l.pass != "Smtp-Secret-99" {
			t.Errorf("the relay's first login: %+v, want vm's, over TLS", l)
		}
	default:
		t.Error("the relay took the mail without a login")
	}
	waitUnqueued(t, ctx, db, ada)
}

// acme mails through a server on implicit TLS (SMTPS). Without a
// certificate of its own the tenant trusts the system's roots, which do
// not know a self-signed one: the send fails and waits; with the
// server's certificate pasted, the retry delivers over TLS.
func TestMailOverImplicitTLS(t *testing.T) {
	certPEM, cert := selfSigned(t, "smtps.acme.example")
	ln := listen(t)
	inbox := serveSecure(t, ln, implicitTLS, cert, "", "")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, db, ada, m := secureOffice(t, ctx, store.SMTPSettings{Port: ln.Addr().(*net.TCPAddr).Port, Security: store.SMTPTLS})
	failedWith(t, ctx, s, db, ada, "certificate")

	trust(t, ctx, db, ada, certPEM)
	got := inbox.next(t, ctx)
	if !got.overTLS {
		t.Error("the mail did not come over TLS")
	}
	sameAudio(t, s, m, got)
	waitUnqueued(t, ctx, db, ada)
}

// A server that offers AUTH on a plain connection and no STARTTLS never
// gets the password: the send fails before any login, and the message
// waits. Settings that would send it in the clear are refused.
func TestSMTPPasswordIsSentOnlyOverTLS(t *testing.T) {
	_, cert := selfSigned(t, "plain.acme.example")
	ln := listen(t)
	inbox := serveSecure(t, ln, plainAuth, cert, "vm", "Smtp-Secret-99")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, db, ada, _ := secureOffice(t, ctx, store.SMTPSettings{Port: ln.Addr().(*net.TCPAddr).Port, Security: store.SMTPStartTLS,
		Username: "vm", Password: "Smtp-Secret-99"})
	failedWith(t, ctx, s, db, ada, "STARTTLS")
	// The attempt, login included, ended before its failure was written.
	select {
	case l := <-inbox.logins:
		t.Fatalf("the server got a login over a plain connection: %+v", l)
	default:
	}

	err := db.SetSMTPSettings(ctx, store.SMTPSettings{TenantID: ada.TenantID, Host: "127.0.0.1", Port: 25, Security: store.SMTPNone,
		Username: "vm", Password: "Smtp-Secret-99", From: "voicemail@acme.example"})
	if store.ErrorCode(err) != store.EINVALID || store.FieldOf(err) != "username" {
		t.Errorf("a login without encryption: %v, want it refused at the user name", err)
	}
}

func waitUnqueued(t *testing.T, ctx context.Context, db *store.DB, ada *store.Extension) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if n, _, _ := db.MailQueued(ctx, ada.TenantID); n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the sent mail stays queued")
		}
	}
}
