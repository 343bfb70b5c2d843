package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Extension is a phone number of a tenant, with its SIP credentials.
type Extension struct {
	ID          int64
	TenantID    int64
	Domain      string // the tenant's domain, which is also the digest realm
	Number      string
	DisplayName string
	HA1MD5      string
	HA1SHA256   string
	PINHash     string // empty when no voicemail PIN is set
	CreatedAt   time.Time
}

// AOR is the extension's address of record, NUMBER@DOMAIN.
func (e *Extension) AOR() string { return e.Number + "@" + e.Domain }

// NewExtension is what an admin provides to create an extension.
type NewExtension struct {
	Domain   string
	Number   string
	Password string
	PIN      string // optional voicemail PIN
	Name     string // optional display name
	// Line is the line of the CSV file the extension came from, which
	// the audit log names; 0 when it did not come from a file.
	Line int
}

const extensionCols = `e.id, e.tenant_id, t.domain, e.number, e.display_name, e.ha1_md5, e.ha1_sha256, coalesce(e.pin_hash, ''), e.created_at`

func scanExtension(row scanner) (*Extension, error) {
	var e Extension
	var created int64
	if err := row.Scan(&e.ID, &e.TenantID, &e.Domain, &e.Number, &e.DisplayName, &e.HA1MD5, &e.HA1SHA256, &e.PINHash, &created); err != nil {
		return nil, err
	}
	e.CreatedAt = time.UnixMilli(created)
	return &e, nil
}

// check validates n and returns it cleaned, without touching the database.
func (n NewExtension) check() (NewExtension, error) {
	n.Domain = strings.ToLower(strings.TrimSpace(n.Domain))
	n.Number = strings.TrimSpace(n.Number)
	if err := ValidNumber(n.Number); err != nil {
		return n, err
	}
	if err := ValidPassword(n.Password); err != nil {
		return n, err
	}
	if n.PIN != "" {
		if err := ValidPIN(n.PIN); err != nil {
			return n, err
		}
		if n.PIN == n.Number {
			return n, invalidf("pin", "PIN may not be the extension number")
		}
	}
	name, err := CleanDisplayName(n.Name)
	if err != nil {
		return n, err
	}
	n.Name = name
	return n, nil
}

type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (db *DB) insertExtension(ctx context.Context, q execQuerier, n NewExtension) (int64, error) {
	var tenantID int64
	err := q.QueryRowContext(ctx, `SELECT id FROM tenants WHERE domain = ?`, n.Domain).Scan(&tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, Errorf(ENOTFOUND, "no tenant %s (add it with: deskpbx tenant add %s)", n.Domain, n.Domain)
	}
	if err != nil {
		return 0, err
	}
	var pin sql.NullString
	if n.PIN != "" {
		pin = sql.NullString{String: HashPIN(n.PIN), Valid: true}
	}
	res, err := q.ExecContext(ctx, `INSERT INTO extensions (tenant_id, number, ha1_md5, ha1_sha256, pin_hash, display_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tenantID, n.Number, HA1MD5(n.Number, n.Domain, n.Password), HA1SHA256(n.Number, n.Domain, n.Password),
		pin, n.Name, db.now())
	if isUniqueViolation(err) {
		return 0, FieldErrorf("number", ECONFLICT, "extension %s@%s already exists", n.Number, n.Domain)
	}
	if isConstraintViolation(err) {
		return 0, Errorf(EINVALID, "extension %s@%s is not valid", n.Number, n.Domain)
	}
	if err != nil {
		return 0, err
	}
	detail := n.Number + "@" + n.Domain
	if n.Line > 0 {
		detail += fmt.Sprintf(" (CSV import, line %d)", n.Line)
	}
	if err := db.auditChange(ctx, q, tenantID, "extension added", detail); err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// CreateExtension adds one extension.
func (db *DB) CreateExtension(ctx context.Context, n NewExtension) (*Extension, error) {
	n, err := n.check()
	if err != nil {
		return nil, err
	}
	var id int64
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, err = db.insertExtension(ctx, tx, n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.extensionByID(ctx, id)
}

// RowError tells which input row of a bulk operation failed.
type RowError struct {
	Row int // index into the slice given
	Err error
}

func (e *RowError) Error() string { return e.Err.Error() }
func (e *RowError) Unwrap() error { return e.Err }

// ImportExtensions adds all of rows in one transaction, or none of them.
func (db *DB) ImportExtensions(ctx context.Context, rows []NewExtension) error {
	checked := make([]NewExtension, len(rows))
	for i, n := range rows {
		c, err := n.check()
		if err != nil {
			return &RowError{Row: i, Err: err}
		}
		checked[i] = c
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for i, n := range checked {
		if _, err := db.insertExtension(ctx, tx, n); err != nil {
			return &RowError{Row: i, Err: err}
		}
	}
	return tx.Commit()
}

func (db *DB) extensionByID(ctx context.Context, id int64) (*Extension, error) {
	e, err := scanExtension(db.sql.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such extension")
	}
	return e, err
}

// ExtensionByID returns an extension by its row ID.
func (db *DB) ExtensionByID(ctx context.Context, id int64) (*Extension, error) {
	return db.extensionByID(ctx, id)
}

// ExtensionByNumber returns extension number of tenant tenantID.
func (db *DB) ExtensionByNumber(ctx context.Context, tenantID int64, number string) (*Extension, error) {
	e, err := scanExtension(db.sql.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id WHERE e.tenant_id = ? AND e.number = ?`, tenantID, number))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no extension %s", number)
	}
	return e, err
}

// LookupExtension finds number in the tenant a SIP request addressed to
// domain belongs to (see ResolveTenant): the registrar's and the
// authenticator's one query per request.
func (db *DB) LookupExtension(ctx context.Context, domain, number string) (*Extension, error) {
	domain = strings.ToLower(domain)
	cond := `t.domain = ?`
	if IsIPHost(domain) {
		cond = `t.is_default = 1 AND ? <> ''`
	}
	e, err := scanExtension(db.sql.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id
		WHERE e.number = ? AND `+cond, number, domain))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no extension %s@%s", number, domain)
	}
	return e, err
}

// Extensions lists the extensions of a tenant (all tenants when tenantID is 0).
func (db *DB) Extensions(ctx context.Context, tenantID int64) ([]*Extension, error) {
	return queryAll(ctx, db.sql, scanExtension, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id
		WHERE ? = 0 OR e.tenant_id = ? ORDER BY t.domain, length(e.number), e.number`, tenantID, tenantID)
}

// DirectoryGeneration changes whenever a tenant or an extension is added,
// changed or removed, by this process or any other on the same file.
func (db *DB) DirectoryGeneration(ctx context.Context) (int64, error) {
	var n int64
	err := db.sql.QueryRowContext(ctx, `SELECT n FROM directory_generation WHERE id = 1`).Scan(&n)
	return n, err
}

// StrongSIPPassword is ValidPassword plus what an admin typing a password
// into a form should be stopped from: SIP digest can be brute-forced
// offline from one captured REGISTER, so guessable passwords are refused
// with the reason.
func StrongSIPPassword(number, domain, pw string) error {
	if err := ValidPassword(pw); err != nil {
		return err
	}
	if len(pw) < 8 {
		return invalidf("password", "password is shorter than 8 characters")
	}
	lower := strings.ToLower(pw)
	if number != "" && strings.Contains(lower, number) {
		return invalidf("password", "password contains the extension number")
	}
	if label, _, _ := strings.Cut(domain, "."); len(label) >= 4 && strings.Contains(lower, label) {
		return invalidf("password", "password contains the tenant's domain name")
	}
	return commonPassword(pw)
}

// CheckVoicemailPIN is ValidPIN plus the rules that need the extension.
func CheckVoicemailPIN(number, pin string) error {
	if err := ValidPIN(pin); err != nil {
		return err
	}
	if pin == number {
		return invalidf("pin", "PIN may not be the extension number")
	}
	return nil
}

// ExtensionUpdate is a change to an extension; zero fields keep their value.
type ExtensionUpdate struct {
	Name     *string // display name; nil keeps it
	Password string  // new SIP password; empty keeps it
	PIN      string  // new voicemail PIN; empty keeps it
	ClearPIN bool    // removes the voicemail PIN
}

// UpdateExtension changes an extension. A new password is stored as HA1
// for the tenant's domain, which is the digest realm.
func (db *DB) UpdateExtension(ctx context.Context, id int64, u ExtensionUpdate) (*Extension, error) {
	e, err := db.extensionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if u.Name != nil {
			name, err := CleanDisplayName(*u.Name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE extensions SET display_name = ? WHERE id = ?`, name, id); err != nil {
				return err
			}
		}
		if u.Password != "" {
			if err := StrongSIPPassword(e.Number, e.Domain, u.Password); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE extensions SET ha1_md5 = ?, ha1_sha256 = ? WHERE id = ?`,
				HA1MD5(e.Number, e.Domain, u.Password), HA1SHA256(e.Number, e.Domain, u.Password), id); err != nil {
				return err
			}
		}
		switch {
		case u.PIN != "":
			if err := CheckVoicemailPIN(e.Number, u.PIN); err != nil {
				return err
			}
			if err := refuseHotdeskIDAsPIN(ctx, tx, id, u.PIN); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE extensions SET pin_hash = ? WHERE id = ?`, HashPIN(u.PIN), id); err != nil {
				return err
			}
		case u.ClearPIN:
			if _, err := tx.ExecContext(ctx, `UPDATE extensions SET pin_hash = NULL WHERE id = ?`, id); err != nil {
				return err
			}
		}
		var changed []string
		if u.Name != nil && strings.TrimSpace(*u.Name) != e.DisplayName {
			changed = append(changed, "name")
		}
		if u.Password != "" {
			changed = append(changed, "SIP password")
		}
		if u.PIN != "" || u.ClearPIN {
			changed = append(changed, "voicemail PIN")
		}
		if len(changed) > 0 {
			if err := db.auditChange(ctx, tx, e.TenantID, "extension changed", e.AOR()+": "+strings.Join(changed, ", ")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.extensionByID(ctx, id)
}

// DeleteExtension removes an extension and its registrations.
func (db *DB) DeleteExtension(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	e, err := scanExtension(tx.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "no such extension")
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM extensions WHERE id = ?`, id); err != nil {
		return err
	}
	if err := db.auditChange(ctx, tx, e.TenantID, "extension deleted", e.AOR()); err != nil {
		return err
	}
	return tx.Commit()
}

// ExtensionsByID returns the extensions with the given row IDs, for
// labelling live registrations; missing ones are left out.
func (db *DB) ExtensionsByID(ctx context.Context, ids []int64) (map[int64]*Extension, error) {
	out := make(map[int64]*Extension, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	exts, err := queryAll(ctx, db.sql, scanExtension, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id
		WHERE e.id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)`, args...)
	for _, e := range exts {
		out[e.ID] = e
	}
	return out, err
}
