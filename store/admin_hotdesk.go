package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// HotdeskEntryOf returns the hot-desk entry of extension extensionID, with
// its live state. The admin page addresses entries by extension, so the
// ID, half of a login, never appears in a URL or an access log.
func (db *DB) HotdeskEntryOf(ctx context.Context, extensionID int64) (*HotdeskEntry, error) {
	h, err := scanHotdeskEntry(db.sql.QueryRowContext(ctx, hotdeskEntryQuery+`WHERE h.extension_id = ?`, extensionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such hot-desk entry")
	}
	return h, err
}

// HotdeskEntryUpdate changes an entry; nil fields are kept.
type HotdeskEntryUpdate struct {
	HotdeskID   *string
	Description *string
}

// UpdateHotdeskEntry changes the hot-desk ID or description of the entry
// with ID hotdeskID, with an audit row, and returns it as it now is. A new
// ID must be unique across every tenant; a clash says so without naming
// the tenant that holds it.
func (db *DB) UpdateHotdeskEntry(ctx context.Context, hotdeskID string, u HotdeskEntryUpdate, actor string) (*HotdeskEntry, error) {
	var desc string
	if u.Description != nil {
		var err error
		if desc, err = cleanDescription(*u.Description); err != nil {
			return nil, err
		}
	}
	newID := hotdeskID
	if u.HotdeskID != nil {
		newID = strings.TrimSpace(*u.HotdeskID)
		if err := ValidHotdeskID(newID); err != nil {
			return nil, err
		}
	}
	var out *HotdeskEntry
	err := db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		h, err := hotdeskEntryByID(ctx, tx.tx, hotdeskID)
		if err != nil {
			return err
		}
		var changes []string
		if newID != h.HotdeskID {
			// The same rules as a new entry: the secret asked for at
			// login must not be the ID itself.
			switch {
			case h.CompanyPINHash != "" && CheckPIN(h.CompanyPINHash, newID):
				return Errorf(EINVALID, "hot-desk ID may not be the company PIN of %s", h.Person.Domain)
			case h.CompanyPINHash == "" && h.PINHash != "" && CheckPIN(h.PINHash, newID):
				return Errorf(EINVALID, "hot-desk ID may not be the person's own hot-desk password")
			case h.CompanyPINHash == "" && h.PINHash == "" && h.Person.PINHash != "" && CheckPIN(h.Person.PINHash, newID):
				return Errorf(EINVALID, "hot-desk ID may not be the voicemail PIN of %s; give it its own password", h.Person.AOR())
			}
			_, err := tx.tx.ExecContext(ctx, `UPDATE hotdesk_entries SET hotdesk_id = ? WHERE extension_id = ?`, newID, h.Person.ID)
			if isUniqueViolation(err) {
				return Errorf(ECONFLICT, "hot-desk ID %s is already in use", newID)
			}
			if err != nil {
				return err
			}
			changes = append(changes, "hot-desk ID changed from "+h.HotdeskID)
		}
		if u.Description != nil && desc != h.Description {
			if _, err := tx.tx.ExecContext(ctx, `UPDATE hotdesk_entries SET description = ? WHERE extension_id = ?`, desc, h.Person.ID); err != nil {
				return err
			}
			changes = append(changes, "description changed")
		}
		if len(changes) > 0 {
			if err := tx.adminAudit(h.Person, actor, newID, strings.Join(changes, "; ")); err != nil {
				return err
			}
		}
		out, err = hotdeskEntryByID(ctx, tx.tx, newID)
		return err
	})
	return out, err
}

// AuditFilter narrows the audit log. Zero fields match everything.
type AuditFilter struct {
	TenantID int64  // entries about this tenant's people or phones
	Action   string // exact
	Outcome  string // exact
	Text     string // substring of person, seat, actor, source, ID tried or detail
	Before   int64  // entries older than this entry ID: the next page
	Since    time.Time
	Until    time.Time
}

// AuditLog returns up to limit audit entries matching f, newest first,
// and whether older ones match too.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter, limit int) ([]AuditEntry, bool, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	where := []string{"1 = 1"}
	var args []any
	if f.TenantID != 0 {
		where, args = append(where, "(tenant_id = ? OR seat_tenant_id = ?)"), append(args, f.TenantID, f.TenantID)
	}
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Outcome != "" {
		where, args = append(where, "outcome = ?"), append(args, f.Outcome)
	}
	if f.Text != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Text) + "%"
		where = append(where, `(person LIKE ? ESCAPE '\' OR seat LIKE ? ESCAPE '\' OR actor LIKE ? ESCAPE '\'
			OR source LIKE ? ESCAPE '\' OR id_tried LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, like, like, like)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "at < ?"), append(args, f.Until.UnixMilli())
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, at, coalesce(tenant_id, 0), coalesce(seat_tenant_id, 0), actor, action,
		person, seat, source, id_tried, outcome, detail
		FROM hotdesk_audit WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		var at int64
		if err := rows.Scan(&a.ID, &at, &a.TenantID, &a.SeatTenantID, &a.Actor, &a.Action, &a.Person, &a.Seat,
			&a.Source, &a.IDTried, &a.Outcome, &a.Detail); err != nil {
			return nil, false, err
		}
		a.At = time.UnixMilli(at)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// AuditValues lists the distinct actions and outcomes in the audit log of
// a tenant (all when 0), for the filter's choices.
func (db *DB) AuditValues(ctx context.Context, tenantID int64) (actions, outcomes []string, err error) {
	for _, col := range []string{"action", "outcome"} {
		rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM hotdesk_audit
			WHERE ? = 0 OR tenant_id = ? OR seat_tenant_id = ? ORDER BY 1`, tenantID, tenantID, tenantID)
		if err != nil {
			return nil, nil, err
		}
		var vals []string
		for rows.Next() {
			var v string
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return nil, nil, err
			}
			vals = append(vals, v)
		}
		rows.Close()
		if col == "action" {
			actions = vals
		} else {
			outcomes = vals
		}
	}
	return actions, outcomes, nil
}
