package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

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
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if u.Name != nil {
		name, err := CleanDisplayName(*u.Name)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE extensions SET display_name = ? WHERE id = ?`, name, id); err != nil {
			return nil, err
		}
	}
	if u.Password != "" {
		if err := StrongSIPPassword(e.Number, e.Domain, u.Password); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE extensions SET ha1_md5 = ?, ha1_sha256 = ? WHERE id = ?`,
			HA1MD5(e.Number, e.Domain, u.Password), HA1SHA256(e.Number, e.Domain, u.Password), id); err != nil {
			return nil, err
		}
	}
	switch {
	case u.PIN != "":
		if err := CheckVoicemailPIN(e.Number, u.PIN); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE extensions SET pin_hash = ? WHERE id = ?`, HashPIN(u.PIN), id); err != nil {
			return nil, err
		}
	case u.ClearPIN:
		if _, err := tx.ExecContext(ctx, `UPDATE extensions SET pin_hash = NULL WHERE id = ?`, id); err != nil {
			return nil, err
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
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return db.extensionByID(ctx, id)
}

// DeleteExtension removes an extension and its registrations.
func (db *DB) DeleteExtension(ctx context.Context, id int64) error {
	tx, err := db.sql.BeginTx(ctx, nil)
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
	rows, err := db.sql.QueryContext(ctx, `SELECT `+extensionCols+`
		FROM extensions e JOIN tenants t ON t.id = e.tenant_id
		WHERE e.id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanExtension(rows)
		if err != nil {
			return nil, err
		}
		out[e.ID] = e
	}
	return out, rows.Err()
}
