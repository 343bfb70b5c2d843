package store

import (
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// SMTP security modes.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded by STARTTLS, required
	SMTPTLS      = "tls"      // TLS from the first byte (port 465)
	SMTPNone     = "none"     // no encryption: only for a relay on the same host
)

// SMTPSettings is a tenant's mail server for voicemail e-mail.
type SMTPSettings struct {
	TenantID    int64
	Host        string
	Port        int
	Security    string
	Username    string
	Password    string // never shown back; "" in a change keeps the stored one
	From        string
	DeleteAfter bool // delete a message from the mailbox once mailed
	// CAPEM is the certificate (PEM) the server's must chain to: its own
	// self-signed one or a local CA. Empty: the system's roots.
	CAPEM string
}

// TrustedRoots is the pool of s.CAPEM, nil for the system's roots.
func (s *SMTPSettings) TrustedRoots() *x509.CertPool {
	if strings.TrimSpace(s.CAPEM) == "" {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(s.CAPEM)) {
		return nil
	}
	return pool
}

// CheckSMTPSettings refuses settings that cannot work, field by field.
func CheckSMTPSettings(s *SMTPSettings) error {
	s.Host, s.Username, s.From = strings.TrimSpace(s.Host), strings.TrimSpace(s.Username), strings.TrimSpace(s.From)
	switch {
	case s.Host == "" || len(s.Host) > 253 || strings.ContainsAny(s.Host, " /:@"):
		return &Error{Code: EINVALID, Field: "host", Message: "give the mail server's host name or address"}
	case s.Port < 1 || s.Port > 65535:
		return &Error{Code: EINVALID, Field: "port", Message: "port must be between 1 and 65535"}
	case s.Security != SMTPStartTLS && s.Security != SMTPTLS && s.Security != SMTPNone:
		return &Error{Code: EINVALID, Field: "security", Message: "security must be starttls, tls or none"}
	case s.Security == SMTPNone && s.Username != "":
		// The password would cross the network in the clear.
		return &Error{Code: EINVALID, Field: "username", Message: "a user name and password are sent only over STARTTLS or TLS: choose one, or leave the user name empty"}
	}
	s.CAPEM = strings.TrimSpace(s.CAPEM)
	switch {
	case s.CAPEM == "":
	case s.Security == SMTPNone:
		return &Error{Code: EINVALID, Field: "ca_pem", Message: "a trusted certificate needs STARTTLS or TLS"}
	case len(s.CAPEM) > 65536 || s.TrustedRoots() == nil:
		return &Error{Code: EINVALID, Field: "ca_pem", Message: "paste the server's certificate or its CA in PEM form (-----BEGIN CERTIFICATE-----)"}
	}
	if a, err := mail.ParseAddress(s.From); err != nil || a.Address != s.From || len(s.From) > 254 {
		return &Error{Code: EINVALID, Field: "from", Message: "the sender must be a plain e-mail address"}
	}
	return nil
}

// SMTPSettingsOf returns tenant tenantID's mail server, ENOTFOUND if it
// has none.
func (db *DB) SMTPSettingsOf(ctx context.Context, tenantID int64) (*SMTPSettings, error) {
	s := SMTPSettings{TenantID: tenantID}
	var del int
	err := db.sql.QueryRowContext(ctx, `SELECT host, port, security, username, password, from_addr, delete_after, ca_pem
		FROM voicemail_smtp WHERE tenant_id = ?`, tenantID).Scan(&s.Host, &s.Port, &s.Security, &s.Username, &s.Password, &s.From, &del, &s.CAPEM)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no mail server set")
	}
	s.DeleteAfter = del == 1
	return &s, err
}

// SetSMTPSettings stores a tenant's mail server (an empty Password keeps
// the stored one), audited without the password.
func (db *DB) SetSMTPSettings(ctx context.Context, s SMTPSettings) error {
	if err := CheckSMTPSettings(&s); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO voicemail_smtp (tenant_id, host, port, security, username, password, from_addr, delete_after, ca_pem)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET host = excluded.host, port = excluded.port, security = excluded.security,
				username = excluded.username, from_addr = excluded.from_addr, delete_after = excluded.delete_after, ca_pem = excluded.ca_pem,
				password = CASE WHEN excluded.password = '' THEN password ELSE excluded.password END`,
			s.TenantID, s.Host, s.Port, s.Security, s.Username, s.Password, s.From, boolInt(s.DeleteAfter), s.CAPEM)
		if isConstraintViolation(err) {
			return Errorf(ENOTFOUND, "no such tenant")
		}
		if err != nil {
			return err
		}
		detail := s.Host + ":" + strconv.Itoa(s.Port) + " " + s.Security
		if s.Password != "" {
			detail += ", password changed"
		}
		if s.CAPEM != "" {
			detail += ", own trusted certificate"
		}
		return db.auditChange(ctx, tx, s.TenantID, "voicemail mail server set", detail)
	})
}

// DeleteSMTPSettings stops a tenant's voicemail e-mail; mail not yet
// sent stays queued until a server is set again.
func (db *DB) DeleteSMTPSettings(ctx context.Context, tenantID int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM voicemail_smtp WHERE tenant_id = ?`, tenantID)
		if err := oneRow(res, err); err != nil {
			return Errorf(ENOTFOUND, "no mail server set")
		}
		return db.auditChange(ctx, tx, tenantID, "voicemail mail server removed", "")
	})
}

// MailJob is one voicemail message to mail, with all that sending needs.
type MailJob struct {
	ID       int64
	Attempts int
	Message  VoicemailMessage
	Box      Extension // ID, TenantID, Number, Domain, DisplayName
	To       string
	SMTP     SMTPSettings
}

// DueMailJobs returns up to limit jobs due by now whose mailbox still has
// an address and whose tenant a server, oldest first.
func (db *DB) DueMailJobs(ctx context.Context, now time.Time, limit int) ([]*MailJob, error) {
	return queryAll(ctx, db.sql, func(row scanner) (*MailJob, error) {
		var j MailJob
		var del int
		m, err := scanVoicemail(scanWithTail{row, []any{&j.ID, &j.Attempts, &j.Box.TenantID, &j.Box.Number, &j.Box.Domain,
			&j.Box.DisplayName, &j.To, &j.SMTP.Host, &j.SMTP.Port, &j.SMTP.Security, &j.SMTP.Username, &j.SMTP.Password,
			&j.SMTP.From, &del, &j.SMTP.CAPEM}})
		if err != nil {
			return nil, err
		}
		j.Message, j.Box.ID, j.SMTP.TenantID, j.SMTP.DeleteAfter = *m, m.ExtensionID, j.Box.TenantID, del == 1
		return &j, nil
	}, `SELECT v.id, v.extension_id, v.caller_number, v.caller_name, v.at, v.duration_ms, v.folder, v.file,
			o.id, o.attempts, e.tenant_id, e.number, t.domain, e.display_name, s.email,
			m.host, m.port, m.security, m.username, m.password, m.from_addr, m.delete_after, m.ca_pem
		FROM voicemail_mail_outbox o
		JOIN voicemail_messages v ON v.id = o.message_id
		JOIN extensions e ON e.id = v.extension_id
		JOIN tenants t ON t.id = e.tenant_id
		JOIN voicemail_settings s ON s.extension_id = e.id AND s.email != ''
		JOIN voicemail_smtp m ON m.tenant_id = e.tenant_id
		WHERE o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?`, now.UnixMilli(), limit)
}

// NextMailDue is when the earliest sendable mail is due; false if none
// is (mail whose mailbox lost its address or tenant its server waits).
func (db *DB) NextMailDue(ctx context.Context) (time.Time, bool, error) {
	var at sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT min(o.next_at) FROM voicemail_mail_outbox o
		JOIN voicemail_messages v ON v.id = o.message_id
		JOIN extensions e ON e.id = v.extension_id
		JOIN voicemail_settings s ON s.extension_id = e.id AND s.email != ''
		JOIN voicemail_smtp m ON m.tenant_id = e.tenant_id`).Scan(&at)
	return time.UnixMilli(at.Int64), at.Valid, err
}

// MailSent removes a job that was sent.
func (db *DB) MailSent(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, `DELETE FROM voicemail_mail_outbox WHERE id = ?`, id)
	return err
}

// MailFailed records a failed attempt and when to try again.
func (db *DB) MailFailed(ctx context.Context, id int64, why string, retryAt time.Time) error {
	_, err := db.exec(ctx, `UPDATE voicemail_mail_outbox SET attempts = attempts + 1, last_error = ?, next_at = ? WHERE id = ?`,
		truncate(why, 500), retryAt.UnixMilli(), id)
	return err
}

// MailQueued is how many messages wait to be mailed, and the last error
// of the oldest, for the admin page.
func (db *DB) MailQueued(ctx context.Context, tenantID int64) (n int, lastError string, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(max(o.last_error), '') FROM voicemail_mail_outbox o
		JOIN voicemail_messages v ON v.id = o.message_id JOIN extensions e ON e.id = v.extension_id
		WHERE e.tenant_id = ?`, tenantID).Scan(&n, &lastError)
	return n, lastError, err
}
