package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Mailbox is an extension's voicemail settings.
type Mailbox struct {
	ExtensionID  int64
	Enabled      bool
	NoAnswer     time.Duration // how long calls ring first; 0: the server's ring timeout
	Email        string
	GreetingFile string // in the data directory; "" when none is recorded
	NameFile     string
}

// Voicemail folders.
const (
	FolderNew   = "new"
	FolderSaved = "saved"
)

// VoicemailMessage is one message left in a mailbox.
type VoicemailMessage struct {
	ID           int64
	ExtensionID  int64
	CallerNumber string
	CallerName   string
	At           time.Time
	Duration     time.Duration
	Folder       string // FolderNew or FolderSaved
	File         string // the audio, in the data directory
}

// Mailbox returns the voicemail settings of extension extID, the
// defaults when none were ever changed.
func (db *DB) Mailbox(ctx context.Context, extID int64) (*Mailbox, error) {
	m := &Mailbox{ExtensionID: extID, Enabled: true}
	var enabled int
	var secs sql.NullInt64
	var greeting, name sql.NullString
	err := db.sql.QueryRowContext(ctx, `SELECT enabled, no_answer_secs, email, greeting_file, name_file
		FROM voicemail_settings WHERE extension_id = ?`, extID).Scan(&enabled, &secs, &m.Email, &greeting, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	m.Enabled = enabled == 1
	m.NoAnswer = time.Duration(secs.Int64) * time.Second
	m.GreetingFile, m.NameFile = greeting.String, name.String
	return m, nil
}

// MailboxChange changes an extension's voicemail settings; nil fields
// are left as they are.
type MailboxChange struct {
	Enabled  *bool
	NoAnswer *time.Duration // 0: back to the server's ring timeout
	Email    *string
}

// SetMailbox applies c to extension extID's mailbox.
func (db *DB) SetMailbox(ctx context.Context, extID int64, c MailboxChange) error {
	sets, args := []string{}, []any{}
	if c.Enabled != nil {
		sets, args = append(sets, "enabled = ?"), append(args, boolInt(*c.Enabled))
	}
	if c.NoAnswer != nil {
		secs := sql.NullInt64{Int64: int64(*c.NoAnswer / time.Second), Valid: *c.NoAnswer > 0}
		if secs.Valid && (secs.Int64 < 5 || secs.Int64 > 300) {
			return Errorf(EINVALID, "no-answer timeout must be between 5 s and 5 min")
		}
		sets, args = append(sets, "no_answer_secs = ?"), append(args, secs)
	}
	if c.Email != nil {
		e := strings.TrimSpace(*c.Email)
		if len(e) > 254 || (e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \r\n<>\",;"))) {
			return Errorf(EINVALID, "e-mail address %q is not valid", e)
		}
		sets, args = append(sets, "email = ?"), append(args, e)
	}
	if len(sets) == 0 {
		return nil
	}
	return db.upsertMailbox(ctx, extID, strings.Join(sets, ", "), args...)
}

// Mailbox recordings other than messages.
const (
	RecordingGreeting = "greeting_file"
	RecordingName     = "name_file"
)

// SetMailboxRecording points the mailbox's greeting or name (which is
// RecordingGreeting or RecordingName) at file ("" for none) and returns
// the file it replaces, for the caller to remove.
func (db *DB) SetMailboxRecording(ctx context.Context, extID int64, which, file string) (old string, err error) {
	if which != RecordingGreeting && which != RecordingName {
		return "", Errorf(EINVALID, "no recording %q", which)
	}
	m, err := db.Mailbox(ctx, extID)
	if err != nil {
		return "", err
	}
	old = m.GreetingFile
	if which == RecordingName {
		old = m.NameFile
	}
	return old, db.upsertMailbox(ctx, extID, which+" = ?", sql.NullString{String: file, Valid: file != ""})
}

func (db *DB) upsertMailbox(ctx context.Context, extID int64, sets string, args ...any) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO voicemail_settings (extension_id) VALUES (?)
		ON CONFLICT (extension_id) DO NOTHING`, extID)
		if isConstraintViolation(err) {
			return Errorf(ENOTFOUND, "no such extension")
		}
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE voicemail_settings SET `+sets+` WHERE extension_id = ?`, append(args, extID)...); err != nil {
			return err
		}
		return db.auditMailbox(ctx, tx, extID, "voicemail settings changed", strings.ReplaceAll(sets, " = ?", ""))
	})
}

// auditMailbox audits an admin's change of mailbox extID in the change's
// transaction (see auditChange); phones' own changes carry no actor.
func (db *DB) auditMailbox(ctx context.Context, tx *sql.Tx, extID int64, what, detail string) error {
	if ActorOf(ctx) == "" {
		return nil
	}
	var tenantID int64
	var number, domain string
	if err := tx.QueryRowContext(ctx, `SELECT e.tenant_id, e.number, t.domain FROM extensions e
		JOIN tenants t ON t.id = e.tenant_id WHERE e.id = ?`, extID).Scan(&tenantID, &number, &domain); err != nil {
		return err
	}
	return db.auditChange(ctx, tx, tenantID, what, number+"@"+domain+": "+detail)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// NewVoicemail is a message whose audio file is already on disk.
type NewVoicemail struct {
	ExtensionID  int64
	CallerNumber string
	CallerName   string
	At           time.Time
	Duration     time.Duration
	File         string
}

// ErrMailboxFull is AddVoicemail's answer when the mailbox holds limit
// messages already.
var ErrMailboxFull = Errorf(ECONFLICT, "mailbox full")

// AddVoicemail lists a message whose audio is already written, unless
// the mailbox holds limit (> 0) messages already: then ErrMailboxFull.
func (db *DB) AddVoicemail(ctx context.Context, n NewVoicemail, limit int) (*VoicemailMessage, error) {
	var id int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM voicemail_messages WHERE extension_id = ?`, n.ExtensionID).Scan(&count); err != nil {
			return err
		}
		if limit > 0 && count >= limit {
			return ErrMailboxFull
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO voicemail_messages
		(extension_id, caller_number, caller_name, at, duration_ms, folder, file) VALUES (?, ?, ?, ?, ?, 'new', ?)`,
			n.ExtensionID, truncate(n.CallerNumber, 64), truncate(n.CallerName, 64), n.At.UnixMilli(), n.Duration.Milliseconds(), n.File)
		if isConstraintViolation(err) {
			return Errorf(EINVALID, "voicemail for extension %d is not valid", n.ExtensionID)
		}
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return nil, err
	}
	return &VoicemailMessage{ID: id, ExtensionID: n.ExtensionID, CallerNumber: n.CallerNumber, CallerName: n.CallerName,
		At: time.UnixMilli(n.At.UnixMilli()), Duration: n.Duration.Truncate(time.Millisecond), Folder: FolderNew, File: n.File}, nil
}

const voicemailCols = `id, extension_id, caller_number, caller_name, at, duration_ms, folder, file`

func scanVoicemail(row scanner) (*VoicemailMessage, error) {
	var m VoicemailMessage
	var at, ms int64
	if err := row.Scan(&m.ID, &m.ExtensionID, &m.CallerNumber, &m.CallerName, &at, &ms, &m.Folder, &m.File); err != nil {
		return nil, err
	}
	m.At, m.Duration = time.UnixMilli(at), time.Duration(ms)*time.Millisecond
	return &m, nil
}

// VoicemailMessages lists a mailbox, new messages first, each folder
// oldest first (the order voicemail menus play them in). extID 0 lists
// every mailbox.
func (db *DB) VoicemailMessages(ctx context.Context, extID int64) ([]*VoicemailMessage, error) {
	return queryAll(ctx, db.sql, scanVoicemail, `SELECT `+voicemailCols+` FROM voicemail_messages
		WHERE ? = 0 OR extension_id = ? ORDER BY folder = 'saved', at, id`, extID, extID)
}

// VoicemailCounts is how many new and saved messages a mailbox holds.
func (db *DB) VoicemailCounts(ctx context.Context, extID int64) (newCount, saved int, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT coalesce(sum(folder = 'new'), 0), coalesce(sum(folder = 'saved'), 0)
		FROM voicemail_messages WHERE extension_id = ?`, extID).Scan(&newCount, &saved)
	return newCount, saved, err
}

// SetVoicemailFolder moves message id of mailbox extID to folder.
func (db *DB) SetVoicemailFolder(ctx context.Context, extID, id int64, folder string) error {
	if folder != FolderNew && folder != FolderSaved {
		return Errorf(EINVALID, "no folder %q", folder)
	}
	res, err := db.exec(ctx, `UPDATE voicemail_messages SET folder = ? WHERE id = ? AND extension_id = ?`, folder, id, extID)
	return oneRow(res, err)
}

// DeleteVoicemail unlists message id of mailbox extID; the caller then
// removes its file (a crash in between leaves an orphan file, swept at
// the next start, never a listed message without audio).
func (db *DB) DeleteVoicemail(ctx context.Context, extID, id int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var caller string
		var at int64
		err := tx.QueryRowContext(ctx, `DELETE FROM voicemail_messages WHERE id = ? AND extension_id = ?
			RETURNING caller_number, at`, id, extID).Scan(&caller, &at)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "no such message")
		}
		if err != nil {
			return err
		}
		return db.auditMailbox(ctx, tx, extID, "voicemail deleted",
			"message "+strconv.FormatInt(id, 10)+" from "+caller+" at "+time.UnixMilli(at).UTC().Format(time.RFC3339))
	})
}

func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Errorf(ENOTFOUND, "no such message")
	}
	return nil
}

// VoicemailFiles is every file a row names (messages, greetings, names),
// for the sweep of files nothing lists.
func (db *DB) VoicemailFiles(ctx context.Context) (map[string]bool, error) {
	return queryMap[string, bool](ctx, db.sql, `SELECT file, 1 FROM voicemail_messages
		UNION ALL SELECT greeting_file, 1 FROM voicemail_settings WHERE greeting_file IS NOT NULL
		UNION ALL SELECT name_file, 1 FROM voicemail_settings WHERE name_file IS NOT NULL`)
}

// DropVoicemailRowsWithout unlists every message, greeting and name whose
// file missing reports as gone, and returns how many it dropped.
func (db *DB) DropVoicemailRowsWithout(ctx context.Context, missing func(file string) bool) (int, error) {
	files, err := db.VoicemailFiles(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for f := range files {
		if !missing(f) {
			continue
		}
		for _, q := range []string{
			`DELETE FROM voicemail_messages WHERE file = ?`,
			`UPDATE voicemail_settings SET greeting_file = NULL WHERE greeting_file = ?`,
			`UPDATE voicemail_settings SET name_file = NULL WHERE name_file = ?`,
		} {
			if _, err := db.exec(ctx, q, f); err != nil {
				return n, err
			}
		}
		n++
	}
	return n, nil
}

// SetVoicemailPIN changes extension extID's voicemail PIN, refusing the
// guessable ones, and audits the change (never the PIN) in the same
// transaction.
func (db *DB) SetVoicemailPIN(ctx context.Context, extID int64, pin, actor string) error {
	e, err := db.extensionByID(ctx, extID)
	if err != nil {
		return err
	}
	if err := ValidPIN(pin); err != nil {
		return err
	}
	if pin == e.Number {
		return Errorf(EINVALID, "PIN may not be the extension number")
	}
	hash := HashPIN(pin)
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		if err := refuseHotdeskIDAsPIN(ctx, tx.tx, extID, pin); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE extensions SET pin_hash = ? WHERE id = ?`, hash, extID); err != nil {
			return err
		}
		return tx.Audit(AuditEntry{At: db.Now(), TenantID: e.TenantID, SeatTenantID: e.TenantID, Actor: actor,
			Action: "voicemail-pin", Person: e.AOR(), Outcome: "ok", Detail: "voicemail PIN changed"})
	})
}

// refuseHotdeskIDAsPIN refuses pin as extID's voicemail PIN when it is one
// of the person's hot-desk IDs: the ID is no secret (colleagues see it
// typed), and it may log its owner in with this PIN, so one must not give
// the other away.
func refuseHotdeskIDAsPIN(ctx context.Context, tx *sql.Tx, extID int64, pin string) error {
	var ids int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM hotdesk_entries WHERE extension_id = ? AND hotdesk_id = ?`, extID, pin).Scan(&ids); err != nil {
		return err
	}
	if ids > 0 {
		return invalidf("pin", "PIN may not be the hot-desk ID")
	}
	return nil
}
