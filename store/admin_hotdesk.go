package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
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
				return invalidf("hotdesk_id", "hot-desk ID may not be the company PIN of %s", h.Person.Domain)
			case h.CompanyPINHash == "" && h.PINHash != "" && CheckPIN(h.PINHash, newID):
				return invalidf("hotdesk_id", "hot-desk ID may not be the person's own hot-desk password")
			case h.CompanyPINHash == "" && h.PINHash == "" && h.Person.PINHash != "" && CheckPIN(h.Person.PINHash, newID):
				return invalidf("hotdesk_id", "hot-desk ID may not be the voicemail PIN of %s; give it its own password", h.Person.AOR())
			}
			_, err := tx.tx.ExecContext(ctx, `UPDATE hotdesk_entries SET hotdesk_id = ? WHERE extension_id = ?`, newID, h.Person.ID)
			if isUniqueViolation(err) {
				return FieldErrorf("hotdesk_id", ECONFLICT, "hot-desk ID %s is already in use", newID)
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
