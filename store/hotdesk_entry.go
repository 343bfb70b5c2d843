package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// HotdeskEntry lets an extension hot-desk: log in at any phone with a
// globally unique ID. The live fields (Seat, SeatedSince, LockedUntil)
// are as of the query that returned it.
type HotdeskEntry struct {
	Person         *Extension
	HotdeskID      string
	PINHash        string // own hot-desk password, hashed; "" when none
	CompanyPINHash string // company PIN of Person's tenant, hashed; "" when none
	DialOverride   string // AOR an admin set for calls while seated; "" when none
	DialOverrideID int64
	Description    string
	CreatedAt      time.Time

	Seat        string    // AOR of the phone the person is seated at; "" when none
	SeatedSince time.Time // zero when not seated
	LockedUntil time.Time // end of the ID's lockout; may be in the past
}

// RingTarget is where calls to the person go: the admin's override, else
// the seat; "" when they ring the person's own phones.
func (e *HotdeskEntry) RingTarget() string {
	if e.Seat == "" {
		return ""
	}
	if e.DialOverride != "" {
		return e.DialOverride
	}
	return e.Seat
}

// LoginSecret is the hash a login with this entry must match, by the one
// order of precedence: the company PIN of the person's tenant, else the
// entry's own hot-desk password, else the person's voicemail PIN. ""
// means the person cannot log in at all.
func (e *HotdeskEntry) LoginSecret() string {
	switch {
	case e.CompanyPINHash != "":
		return e.CompanyPINHash
	case e.PINHash != "":
		return e.PINHash
	}
	return e.Person.PINHash
}

// refuseIDAsSecret refuses id as the entry's hot-desk ID when it is the
// secret asked for at login: half of a login would give away the other.
func (e *HotdeskEntry) refuseIDAsSecret(id string) error {
	secret := e.LoginSecret()
	switch {
	case secret == "" || !CheckPIN(secret, id):
		return nil
	case e.CompanyPINHash != "":
		return invalidf("hotdesk_id", "hot-desk ID may not be the company PIN of %s", e.Person.Domain)
	case e.PINHash != "":
		return invalidf("hotdesk_id", "hot-desk ID may not be the person's own hot-desk password")
	}
	return invalidf("hotdesk_id", "hot-desk ID may not be the voicemail PIN of %s; give it its own password", e.Person.AOR())
}

// Locked reports whether the ID is locked out at now.
func (e *HotdeskEntry) Locked(now time.Time) bool { return e.LockedUntil.After(now) }

// NewHotdeskEntry is what an admin provides to let an extension hot-desk.
type NewHotdeskEntry struct {
	Domain       string
	Number       string
	HotdeskID    string
	PIN          string // optional own password; else the voicemail PIN is used
	Description  string
	DialOverride string // optional NUMBER@DOMAIN whose phones ring while the person is seated
}

// ValidHotdeskID checks a hot-desk ID: 4 to 15 digits. It is not a secret
// (the PIN is), but a short one is too easily hit by accident.
func ValidHotdeskID(id string) error {
	if id == "" {
		return invalidf("hotdesk_id", "hot-desk ID is empty")
	}
	for _, c := range id {
		if c < '0' || c > '9' {
			return invalidf("hotdesk_id", "hot-desk ID %q must be digits only", id)
		}
	}
	if len(id) < 4 {
		return invalidf("hotdesk_id", "hot-desk ID %s is shorter than 4 digits", id)
	}
	if len(id) > 15 {
		return invalidf("hotdesk_id", "hot-desk ID is longer than 15 digits")
	}
	return nil
}

// ValidHotdeskPIN checks a hot-desk password as ValidPIN does, and also
// refuses the two numbers a guesser tries first: the person's extension
// number and their hot-desk ID.
func ValidHotdeskPIN(pin, number, hotdeskID string) error {
	if err := ValidPIN(pin); err != nil {
		return invalidf("pin", "hot-desk password: %s", err.Error())
	}
	if pin == number {
		return invalidf("pin", "hot-desk password may not be the extension number")
	}
	if pin == hotdeskID {
		return invalidf("pin", "hot-desk password may not be the hot-desk ID")
	}
	return nil
}

// hotdeskEntryQuery reads entries with their live state; callers append a
// WHERE clause. Every join is on a primary or unique key.
var hotdeskEntryQuery = `SELECT ` + extensionCols + `,
	h.hotdesk_id, coalesce(h.pin_hash, ''), coalesce(t.company_pin, ''),
	coalesce(oe.number || '@' || ot.domain, ''), coalesce(h.dial_override_id, 0),
	h.description, h.created_at,
	coalesce(de.number || '@' || dt.domain, ''), coalesce(s.since, 0), coalesce(l.until, 0)
	FROM hotdesk_entries h
	JOIN extensions e ON e.id = h.extension_id
	JOIN tenants t ON t.id = e.tenant_id
	LEFT JOIN extensions oe ON oe.id = h.dial_override_id
	LEFT JOIN tenants ot ON ot.id = oe.tenant_id
	LEFT JOIN hotdesk_sessions s ON s.person_id = h.extension_id
	LEFT JOIN extensions de ON de.id = s.device_id
	LEFT JOIN tenants dt ON dt.id = de.tenant_id
	LEFT JOIN hotdesk_locks l ON l.kind = 'id' AND l.key = h.hotdesk_id `

func scanHotdeskEntry(row scanner) (*HotdeskEntry, error) {
	var h HotdeskEntry
	var created, since, until int64
	p, err := scanExtension(scanWithTail{row, []any{&h.HotdeskID, &h.PINHash, &h.CompanyPINHash,
		&h.DialOverride, &h.DialOverrideID, &h.Description, &created, &h.Seat, &since, &until}})
	if err != nil {
		return nil, err
	}
	h.Person = p
	h.CreatedAt = time.UnixMilli(created)
	if since != 0 {
		h.SeatedSince = time.UnixMilli(since)
	}
	if until != 0 {
		h.LockedUntil = time.UnixMilli(until)
	}
	return &h, nil
}

// hotdeskLoginQuery is hotdeskEntryQuery without the live state, which
// a login reads separately anyway: the fewer joins on the path from the
// caller's '#' to the commit, the better.
var hotdeskLoginQuery = `SELECT ` + extensionCols + `,
	h.hotdesk_id, coalesce(h.pin_hash, ''), coalesce(t.company_pin, ''),
	coalesce(oe.number || '@' || ot.domain, ''), coalesce(h.dial_override_id, 0),
	h.description, h.created_at, '', 0, 0
	FROM hotdesk_entries h
	JOIN extensions e ON e.id = h.extension_id
	JOIN tenants t ON t.id = e.tenant_id
	LEFT JOIN extensions oe ON oe.id = h.dial_override_id
	LEFT JOIN tenants ot ON ot.id = oe.tenant_id
	WHERE h.hotdesk_id = ?`

func hotdeskEntryByID(ctx context.Context, q queryRower, hotdeskID string) (*HotdeskEntry, error) {
	return hotdeskEntryWhere(ctx, q, hotdeskEntryQuery+`WHERE h.hotdesk_id = ?`, hotdeskID)
}

func hotdeskEntryWhere(ctx context.Context, q queryRower, query, hotdeskID string) (*HotdeskEntry, error) {
	h, err := scanHotdeskEntry(q.QueryRowContext(ctx, query, hotdeskID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no hot-desk ID %s", hotdeskID)
	}
	return h, err
}

// HotdeskEntryByID returns the entry with hot-desk ID hotdeskID, of any tenant.
func (db *DB) HotdeskEntryByID(ctx context.Context, hotdeskID string) (*HotdeskEntry, error) {
	return hotdeskEntryByID(ctx, db.sql, hotdeskID)
}

// HotdeskLoginEntry is HotdeskEntryByID without the live state: the
// cheap read a login makes before its transaction.
func (db *DB) HotdeskLoginEntry(ctx context.Context, hotdeskID string) (*HotdeskEntry, error) {
	return hotdeskEntryWhere(ctx, db.sql, hotdeskLoginQuery, hotdeskID)
}

// HotdeskEntries lists the entries of a tenant (all tenants when tenantID is 0).
func (db *DB) HotdeskEntries(ctx context.Context, tenantID int64) ([]*HotdeskEntry, error) {
	return queryAll(ctx, db.sql, scanHotdeskEntry, hotdeskEntryQuery+`WHERE ? = 0 OR e.tenant_id = ?
		ORDER BY t.domain, length(e.number), e.number`, tenantID, tenantID)
}

// CreateHotdeskEntry lets extension n.Number of n.Domain hot-desk with ID
// n.HotdeskID, with its own password and dial string override if given,
// in one transaction with its audit rows. The ID is unique across every
// tenant; a clash is reported without naming the tenant that holds it.
func (db *DB) CreateHotdeskEntry(ctx context.Context, n NewHotdeskEntry, actor string) (*HotdeskEntry, error) {
	n.Domain = strings.ToLower(strings.TrimSpace(n.Domain))
	n.Number = strings.TrimSpace(n.Number)
	n.HotdeskID = strings.TrimSpace(n.HotdeskID)
	if err := ValidHotdeskID(n.HotdeskID); err != nil {
		return nil, err
	}
	if n.PIN != "" {
		if err := ValidHotdeskPIN(n.PIN, n.Number, n.HotdeskID); err != nil {
			return nil, err
		}
	}
	desc, err := CleanDescription(n.Description)
	if err != nil {
		return nil, err
	}
	var out *HotdeskEntry
	err = db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		e := &HotdeskEntry{HotdeskID: n.HotdeskID}
		person, err := scanExtension(scanWithTail{tx.tx.QueryRowContext(ctx, `SELECT `+extensionCols+`, coalesce(t.company_pin, '')
			FROM extensions e JOIN tenants t ON t.id = e.tenant_id WHERE t.domain = ? AND e.number = ?`, n.Domain, n.Number),
			[]any{&e.CompanyPINHash}})
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "no extension %s@%s", n.Number, n.Domain)
		}
		if err != nil {
			return err
		}
		e.Person = person
		var has int
		if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM hotdesk_entries WHERE extension_id = ?`, person.ID).Scan(&has); err != nil {
			return err
		}
		if has > 0 {
			return FieldErrorf("extension", ECONFLICT, "extension %s already has a hot-desk ID", person.AOR())
		}
		var pin sql.NullString
		if n.PIN != "" {
			pin = sql.NullString{String: HashPIN(n.PIN), Valid: true}
			e.PINHash = pin.String
		}
		if err := e.refuseIDAsSecret(n.HotdeskID); err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, `INSERT INTO hotdesk_entries (extension_id, hotdesk_id, pin_hash, description, created_at)
			VALUES (?, ?, ?, ?, ?)`, person.ID, n.HotdeskID, pin, desc, db.now())
		if isUniqueViolation(err) {
			return tx.idClash(n.HotdeskID, person)
		}
		if isConstraintViolation(err) {
			return invalidf("hotdesk_id", "hot-desk ID %s is not valid", n.HotdeskID)
		}
		if err != nil {
			return err
		}
		detail := "hot-desk ID added"
		if n.PIN != "" {
			detail += " with its own password"
		}
		if err := tx.adminAudit(person, actor, n.HotdeskID, detail); err != nil {
			return err
		}
		if strings.TrimSpace(n.DialOverride) != "" {
			if err := tx.setDialOverride(e, n.DialOverride, actor); err != nil {
				return err
			}
		}
		out, err = hotdeskEntryByID(ctx, tx.tx, n.HotdeskID)
		return err
	})
	return out, err
}

// DeleteHotdeskEntry stops an extension hot-desking; a live session ends with it.
func (db *DB) DeleteHotdeskEntry(ctx context.Context, hotdeskID, actor string) error {
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		h, err := hotdeskEntryByID(ctx, tx.tx, hotdeskID)
		if err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM hotdesk_entries WHERE extension_id = ?`, h.Person.ID); err != nil {
			return err
		}
		detail := "hot-desk ID removed"
		if h.Seat != "" {
			detail += "; session at " + h.Seat + " ended"
		}
		return tx.adminAudit(h.Person, actor, h.HotdeskID, detail)
	})
}

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
	// PIN sets the entry's own hot-desk password; "" removes it, so the
	// voicemail PIN is asked for again.
	PIN *string
	// DialOverride (NUMBER@DOMAIN) sends calls to the person, while
	// seated, to that extension's phones instead of the seat; "" removes
	// it. It outlives logins and logouts until an admin removes it.
	DialOverride *string
}

// UpdateHotdeskEntry applies u to the entry with ID hotdeskID in one
// transaction, with an audit row per kind of change, and returns the
// entry as it now is. A new ID must be unique across every tenant; a
// clash says so without naming the tenant that holds it.
func (db *DB) UpdateHotdeskEntry(ctx context.Context, hotdeskID string, u HotdeskEntryUpdate, actor string) (*HotdeskEntry, error) {
	var desc string
	if u.Description != nil {
		var err error
		if desc, err = CleanDescription(*u.Description); err != nil {
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
		if err := tx.changeIDAndDescription(h, newID, u.Description, desc, actor); err != nil {
			return err
		}
		h.HotdeskID = newID
		if u.PIN != nil && (*u.PIN != "" || h.PINHash != "") {
			if err := tx.setOwnPIN(h, *u.PIN, actor); err != nil {
				return err
			}
		}
		if u.DialOverride != nil && !strings.EqualFold(strings.TrimSpace(*u.DialOverride), h.DialOverride) {
			if err := tx.setDialOverride(h, *u.DialOverride, actor); err != nil {
				return err
			}
		}
		out, err = hotdeskEntryByID(ctx, tx.tx, newID)
		return err
	})
	return out, err
}

func (tx *HotdeskTx) changeIDAndDescription(h *HotdeskEntry, newID string, newDesc *string, desc, actor string) error {
	var changes []string
	if newID != h.HotdeskID {
		// The same rule as a new entry: the secret asked for at login
		// must not be the ID itself.
		if err := h.refuseIDAsSecret(newID); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(tx.ctx, `UPDATE hotdesk_entries SET hotdesk_id = ? WHERE extension_id = ?`, newID, h.Person.ID)
		if isUniqueViolation(err) {
			return tx.idClash(newID, h.Person)
		}
		if err != nil {
			return err
		}
		changes = append(changes, "hot-desk ID changed from "+h.HotdeskID)
	}
	if newDesc != nil && desc != h.Description {
		if _, err := tx.tx.ExecContext(tx.ctx, `UPDATE hotdesk_entries SET description = ? WHERE extension_id = ?`, desc, h.Person.ID); err != nil {
			return err
		}
		changes = append(changes, "description changed")
	}
	if len(changes) == 0 {
		return nil
	}
	return tx.adminAudit(h.Person, actor, newID, strings.Join(changes, "; "))
}

// setOwnPIN sets the entry's own password, or removes it when pin is "".
func (tx *HotdeskTx) setOwnPIN(h *HotdeskEntry, pin, actor string) error {
	var hash sql.NullString
	detail := "own hot-desk password removed"
	if pin != "" {
		if err := ValidHotdeskPIN(pin, h.Person.Number, h.HotdeskID); err != nil {
			return err
		}
		hash = sql.NullString{String: HashPIN(pin), Valid: true}
		detail = "own hot-desk password set"
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `UPDATE hotdesk_entries SET pin_hash = ? WHERE extension_id = ?`, hash, h.Person.ID); err != nil {
		return err
	}
	return tx.adminAudit(h.Person, actor, h.HotdeskID, detail)
}

// setDialOverride points calls to the seated person at extension aor
// (NUMBER@DOMAIN), or back at the seat when aor is "".
func (tx *HotdeskTx) setDialOverride(h *HotdeskEntry, aor, actor string) error {
	aor = strings.ToLower(strings.TrimSpace(aor))
	var target sql.NullInt64
	detail := "dial string override removed: calls follow the seat"
	if aor != "" {
		number, domain, ok := strings.Cut(aor, "@")
		if !ok || ValidNumber(number) != nil || ValidDomain(domain) != nil {
			return invalidf("dial_override", "dial string %q is not NUMBER@DOMAIN", aor)
		}
		err := tx.tx.QueryRowContext(tx.ctx, `SELECT e.id FROM extensions e JOIN tenants t ON t.id = e.tenant_id
			WHERE t.domain = ? AND e.number = ?`, domain, number).Scan(&target.Int64)
		if errors.Is(err, sql.ErrNoRows) {
			return FieldErrorf("dial_override", ENOTFOUND, "no extension %s", aor)
		}
		if err != nil {
			return err
		}
		target.Valid = true
		detail = "dial string overridden: calls ring " + aor
	}
	if _, err := tx.tx.ExecContext(tx.ctx, `UPDATE hotdesk_entries SET dial_override_id = ? WHERE extension_id = ?`, target, h.Person.ID); err != nil {
		return err
	}
	return tx.adminAudit(h.Person, actor, h.HotdeskID, detail)
}

func (tx *HotdeskTx) adminAudit(person *Extension, actor, hotdeskID, detail string) error {
	return tx.Audit(AuditEntry{At: tx.db.Now(), TenantID: person.TenantID, Actor: actor, Action: "admin-change",
		Person: person.AOR(), IDTried: hotdeskID, Outcome: "ok", Detail: detail})
}
