package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
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

// DialString is where calls to the person go: the admin's override, else
// the seat; "" when they ring the person's own phones.
func (e *HotdeskEntry) DialString() string {
	if e.Seat == "" {
		return ""
	}
	if e.DialOverride != "" {
		return e.DialOverride
	}
	return e.Seat
}

// Locked reports whether the ID is locked out at now.
func (e *HotdeskEntry) Locked(now time.Time) bool { return e.LockedUntil.After(now) }

// NewHotdeskEntry is what an admin provides to let an extension hot-desk.
type NewHotdeskEntry struct {
	Domain      string
	Number      string
	HotdeskID   string
	PIN         string // optional own password; else the voicemail PIN is used
	Description string
}

// HotdeskSession is one person seated at one phone.
type HotdeskSession struct {
	PersonID, DeviceID             int64
	Person, Device                 string // AORs
	PersonTenantID, DeviceTenantID int64
	HotdeskID                      string
	Since                          time.Time
	How                            string // "*072" or "admin"
	Source                         string // where the login came from
}

// How a session was started.
const (
	SeatedByCode  = "*072"
	SeatedByAdmin = "admin"
)

// HotdeskSettings changes a tenant's hot-desk settings; nil fields are
// left as they are.
type HotdeskSettings struct {
	CompanyPIN      *string        // "" removes it
	Login, Logout   *bool          // whether *072 / *073 work at the tenant's phones
	AutologoutAt    *string        // "HH:MM" server local time; "" turns it off
	AutologoutAfter *time.Duration // 0 turns it off
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

// ParseAutologoutAt checks a daily auto-logout time, "HH:MM" on a 24-hour clock.
func ParseAutologoutAt(s string) (hour, minute int, err error) {
	t, perr := time.Parse("15:04", s)
	if perr != nil || len(s) != 5 {
		return 0, 0, invalidf("autologout_at", "auto-logout time %q is not HH:MM (00:00 to 23:59)", s)
	}
	return t.Hour(), t.Minute(), nil
}

func cleanDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", invalidf("description", "description is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > 200 {
		return "", invalidf("description", "description is longer than 200 characters")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", invalidf("description", "description may not contain control characters")
		}
	}
	return s, nil
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

type scanner interface{ Scan(...any) error }

// scanWithTail lets scanExtension fill the extension's columns while
// the same row's remaining columns go to tail.
type scanWithTail struct {
	row  scanner
	tail []any
}

func (s scanWithTail) Scan(dest ...any) error { return s.row.Scan(append(dest, s.tail...)...) }

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

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
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
	rows, err := db.sql.QueryContext(ctx, hotdeskEntryQuery+`WHERE ? = 0 OR e.tenant_id = ?
		ORDER BY t.domain, length(e.number), e.number`, tenantID, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*HotdeskEntry
	for rows.Next() {
		h, err := scanHotdeskEntry(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// CreateHotdeskEntry lets extension n.Number of n.Domain hot-desk with ID
// n.HotdeskID. The ID is unique across every tenant; a clash is reported
// without naming the tenant that holds it.
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
	desc, err := cleanDescription(n.Description)
	if err != nil {
		return nil, err
	}
	var out *HotdeskEntry
	err = db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		var companyPIN string
		person, err := scanExtension(scanWithTail{tx.tx.QueryRowContext(ctx, `SELECT `+extensionCols+`, coalesce(t.company_pin, '')
			FROM extensions e JOIN tenants t ON t.id = e.tenant_id WHERE t.domain = ? AND e.number = ?`, n.Domain, n.Number),
			[]any{&companyPIN}})
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "no extension %s@%s", n.Number, n.Domain)
		}
		if err != nil {
			return err
		}
		var has int
		if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM hotdesk_entries WHERE extension_id = ?`, person.ID).Scan(&has); err != nil {
			return err
		}
		if has > 0 {
			return FieldErrorf("extension", ECONFLICT, "extension %s already has a hot-desk ID", person.AOR())
		}
		// The secret that will actually be asked for must not be the ID.
		switch {
		case companyPIN != "" && CheckPIN(companyPIN, n.HotdeskID):
			return invalidf("hotdesk_id", "hot-desk ID may not be the company PIN of %s", person.Domain)
		case companyPIN == "" && n.PIN == "" && person.PINHash != "" && CheckPIN(person.PINHash, n.HotdeskID):
			return invalidf("hotdesk_id", "hot-desk ID may not be the voicemail PIN of %s; give it its own password", person.AOR())
		}
		var pin sql.NullString
		if n.PIN != "" {
			pin = sql.NullString{String: HashPIN(n.PIN), Valid: true}
		}
		_, err = tx.tx.ExecContext(ctx, `INSERT INTO hotdesk_entries (extension_id, hotdesk_id, pin_hash, description, created_at)
			VALUES (?, ?, ?, ?, ?)`, person.ID, n.HotdeskID, pin, desc, db.now())
		if isUniqueViolation(err) {
			return FieldErrorf("hotdesk_id", ECONFLICT, "hot-desk ID %s is already in use", n.HotdeskID)
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
		out, err = hotdeskEntryByID(ctx, tx.tx, n.HotdeskID)
		return err
	})
	return out, err
}

// SetHotdeskPIN sets the entry's own password, or removes it when pin is
// "" so the voicemail PIN is used again.
func (db *DB) SetHotdeskPIN(ctx context.Context, hotdeskID, pin, actor string) error {
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		h, err := hotdeskEntryByID(ctx, tx.tx, hotdeskID)
		if err != nil {
			return err
		}
		var hash sql.NullString
		detail := "own hot-desk password removed"
		if pin != "" {
			if err := ValidHotdeskPIN(pin, h.Person.Number, h.HotdeskID); err != nil {
				return err
			}
			hash = sql.NullString{String: HashPIN(pin), Valid: true}
			detail = "own hot-desk password set"
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE hotdesk_entries SET pin_hash = ? WHERE extension_id = ?`, hash, h.Person.ID); err != nil {
			return err
		}
		return tx.adminAudit(h.Person, actor, h.HotdeskID, detail)
	})
}

// SetHotdeskDialString overrides where calls to the person go while
// seated: aor (NUMBER@DOMAIN) must be an extension, whose registered
// phones then ring instead of the seat. "" removes the override. The
// override outlives logins and logouts until an admin removes it.
func (db *DB) SetHotdeskDialString(ctx context.Context, hotdeskID, aor, actor string) error {
	aor = strings.ToLower(strings.TrimSpace(aor))
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		h, err := hotdeskEntryByID(ctx, tx.tx, hotdeskID)
		if err != nil {
			return err
		}
		var target sql.NullInt64
		detail := "dial string override removed: calls follow the seat"
		if aor != "" {
			number, domain, ok := strings.Cut(aor, "@")
			if !ok || ValidNumber(number) != nil || ValidDomain(domain) != nil {
				return invalidf("dial_override", "dial string %q is not NUMBER@DOMAIN", aor)
			}
			err := tx.tx.QueryRowContext(ctx, `SELECT e.id FROM extensions e JOIN tenants t ON t.id = e.tenant_id
				WHERE t.domain = ? AND e.number = ?`, domain, number).Scan(&target.Int64)
			if errors.Is(err, sql.ErrNoRows) {
				return Errorf(ENOTFOUND, "no extension %s", aor)
			}
			if err != nil {
				return err
			}
			target.Valid = true
			detail = "dial string overridden: calls ring " + aor
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE hotdesk_entries SET dial_override_id = ? WHERE extension_id = ?`, target, h.Person.ID); err != nil {
			return err
		}
		return tx.adminAudit(h.Person, actor, h.HotdeskID, detail)
	})
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

// SetTenantHotdesk changes the hot-desk settings of tenant domain, all or
// nothing, and returns the tenant as it now is.
func (db *DB) SetTenantHotdesk(ctx context.Context, domain string, s HotdeskSettings, actor string) (*Tenant, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	var sets []string
	var args []any
	var changes []string
	if s.CompanyPIN != nil {
		if *s.CompanyPIN == "" {
			sets = append(sets, "company_pin = NULL")
			changes = append(changes, "company PIN removed")
		} else {
			if err := ValidPIN(*s.CompanyPIN); err != nil {
				return nil, invalidf("company_pin", "company %s", err.Error())
			}
			sets, args = append(sets, "company_pin = ?"), append(args, HashPIN(*s.CompanyPIN))
			changes = append(changes, "company PIN set")
		}
	}
	if s.Login != nil {
		sets, args = append(sets, "hotdesk_login = ?"), append(args, *s.Login)
		changes = append(changes, "login "+onOff(*s.Login))
	}
	if s.Logout != nil {
		sets, args = append(sets, "hotdesk_logout = ?"), append(args, *s.Logout)
		changes = append(changes, "logout "+onOff(*s.Logout))
	}
	if s.AutologoutAt != nil {
		if *s.AutologoutAt == "" {
			sets = append(sets, "autologout_at = NULL")
			changes = append(changes, "daily auto-logout off")
		} else {
			if _, _, err := ParseAutologoutAt(*s.AutologoutAt); err != nil {
				return nil, err
			}
			sets, args = append(sets, "autologout_at = ?"), append(args, *s.AutologoutAt)
			changes = append(changes, "daily auto-logout at "+*s.AutologoutAt)
		}
	}
	if s.AutologoutAfter != nil {
		d := *s.AutologoutAfter
		switch {
		case d == 0:
			sets = append(sets, "autologout_after = NULL")
			changes = append(changes, "auto-logout after a time off")
		case d < time.Minute || d%time.Second != 0:
			return nil, invalidf("autologout_after", "auto-logout after %v: give whole seconds, at least 1m", d)
		default:
			sets, args = append(sets, "autologout_after = ?"), append(args, int64(d/time.Second))
			changes = append(changes, "auto-logout after "+d.String())
		}
	}
	if len(sets) == 0 {
		return nil, Errorf(EINVALID, "nothing to change")
	}
	var out *Tenant
	err := db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		t, err := scanTenant(tx.tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE domain = ?`, domain))
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "no tenant %s", domain)
		}
		if err != nil {
			return err
		}
		if s.CompanyPIN != nil && *s.CompanyPIN != "" {
			// Everyone of the tenant logs in with the company PIN, so it
			// must not be any of their extension numbers or IDs.
			var n int
			if err := tx.tx.QueryRowContext(ctx, `SELECT count(*) FROM extensions e
				LEFT JOIN hotdesk_entries h ON h.extension_id = e.id
				WHERE e.tenant_id = ? AND (e.number = ? OR h.hotdesk_id = ?)`, t.ID, *s.CompanyPIN, *s.CompanyPIN).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return invalidf("company_pin", "company PIN may not be an extension number or hot-desk ID of %s", domain)
			}
		}
		if _, err := tx.tx.ExecContext(ctx, `UPDATE tenants SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, t.ID)...); err != nil {
			if isConstraintViolation(err) {
				return Errorf(EINVALID, "hot-desk settings of %s are not valid", domain)
			}
			return err
		}
		if err := tx.Audit(AuditEntry{At: db.Now(), TenantID: t.ID, SeatTenantID: t.ID, Actor: actor, Action: "admin-change",
			Outcome: "ok", Detail: "tenant " + domain + ": " + strings.Join(changes, ", ")}); err != nil {
			return err
		}
		out, err = scanTenant(tx.tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, t.ID))
		return err
	})
	return out, err
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// PersonAt returns the extension seated at the phone registered as
// device, or nil. pbx asks this on every call: one lookup on a unique index.
func (db *DB) PersonAt(ctx context.Context, deviceID int64) (*Extension, error) {
	e, err := scanExtension(db.sql.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM hotdesk_sessions s JOIN extensions e ON e.id = s.person_id JOIN tenants t ON t.id = e.tenant_id
		WHERE s.device_id = ?`, deviceID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

// RingTargetOf returns the extension whose registered phones ring for
// calls to a seated person: the dial string override, else the seat; nil
// when the person is not seated. Asked on every call: primary keys only.
func (db *DB) RingTargetOf(ctx context.Context, personID int64) (*Extension, error) {
	e, err := scanExtension(db.sql.QueryRowContext(ctx, `SELECT `+extensionCols+`
		FROM hotdesk_sessions s JOIN hotdesk_entries h ON h.extension_id = s.person_id
		JOIN extensions e ON e.id = coalesce(h.dial_override_id, s.device_id) JOIN tenants t ON t.id = e.tenant_id
		WHERE s.person_id = ?`, personID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return e, err
}

const hotdeskSessionQuery = `SELECT s.person_id, s.device_id, pe.number || '@' || pt.domain, de.number || '@' || dt.domain,
	pe.tenant_id, de.tenant_id, h.hotdesk_id, s.since, s.how, s.source
	FROM hotdesk_sessions s
	JOIN hotdesk_entries h ON h.extension_id = s.person_id
	JOIN extensions pe ON pe.id = s.person_id JOIN tenants pt ON pt.id = pe.tenant_id
	JOIN extensions de ON de.id = s.device_id JOIN tenants dt ON dt.id = de.tenant_id `

func scanHotdeskSession(row scanner) (*HotdeskSession, error) {
	var s HotdeskSession
	var since int64
	if err := row.Scan(&s.PersonID, &s.DeviceID, &s.Person, &s.Device, &s.PersonTenantID, &s.DeviceTenantID,
		&s.HotdeskID, &since, &s.How, &s.Source); err != nil {
		return nil, err
	}
	s.Since = time.UnixMilli(since)
	return &s, nil
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func hotdeskSessions(ctx context.Context, q queryer, tenantID int64) ([]*HotdeskSession, error) {
	rows, err := q.QueryContext(ctx, hotdeskSessionQuery+`WHERE ? = 0 OR pe.tenant_id = ? OR de.tenant_id = ?
		ORDER BY s.since, s.person_id`, tenantID, tenantID, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*HotdeskSession
	for rows.Next() {
		s, err := scanHotdeskSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// HotdeskSessions lists live sessions whose person or seat belongs to
// tenantID (every session when it is 0), oldest first.
func (db *DB) HotdeskSessions(ctx context.Context, tenantID int64) ([]*HotdeskSession, error) {
	return hotdeskSessions(ctx, db.sql, tenantID)
}

// PruneHotdeskLockout forgets failures older than window and lockouts
// that ended, as of now, so the tables stay the size of current attacks.
func (db *DB) PruneHotdeskLockout(ctx context.Context, now time.Time, window time.Duration) error {
	return db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM hotdesk_failures WHERE at <= ?`, now.Add(-window).UnixMilli()); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, `DELETE FROM hotdesk_locks WHERE until <= ?`, now.UnixMilli())
		return err
	})
}

func (tx *HotdeskTx) adminAudit(person *Extension, actor, hotdeskID, detail string) error {
	return tx.Audit(AuditEntry{At: tx.db.Now(), TenantID: person.TenantID, Actor: actor, Action: "admin-change",
		Person: person.AOR(), IDTried: hotdeskID, Outcome: "ok", Detail: detail})
}

// HotdeskTenant returns tenant id with its hot-desk settings.
func (db *DB) HotdeskTenant(ctx context.Context, id int64) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	return t, err
}
