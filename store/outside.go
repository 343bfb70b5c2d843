package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Outside-call permissions of an extension, from narrowest to widest.
const (
	PermInternal      = "internal"
	PermNational      = "national"
	PermInternational = "international"
)

// ExtensionOutside is how an extension calls outside.
type ExtensionOutside struct {
	OutsideCID   string // its outside caller ID as set; "" = its DID, else the tenant's main number
	EmergencyCID string // the phone's location / callback number for emergency calls
	Permission   string // PermInternal, PermNational or PermInternational
	DID          string // its first DID, "" when it has none
}

// ExtensionOutsideSettings changes an extension's outside settings; nil
// fields stay as they are.
type ExtensionOutsideSettings struct {
	OutsideCID, EmergencyCID, Permission *string
}

// ExtensionOutside is the outside settings of extension id, with the
// defaults of an extension nobody configured.
func (db *DB) ExtensionOutside(ctx context.Context, id int64) (ExtensionOutside, error) {
	o := ExtensionOutside{Permission: PermNational}
	err := db.sql.QueryRowContext(ctx, `SELECT outside_cid, emergency_cid, permission FROM extension_outside WHERE extension_id = ?`, id).
		Scan(&o.OutsideCID, &o.EmergencyCID, &o.Permission)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return o, err
	}
	err = db.sql.QueryRowContext(ctx, `SELECT number FROM dids WHERE extension_id = ? ORDER BY id LIMIT 1`, id).Scan(&o.DID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return o, err
	}
	return o, nil
}

// SetExtensionOutside changes the outside settings of DOMAIN's extension
// number.
func (db *DB) SetExtensionOutside(ctx context.Context, domain, number string, s ExtensionOutsideSettings) (ExtensionOutside, error) {
	for _, v := range []*string{s.OutsideCID, s.EmergencyCID} {
		if v != nil && *v != "" {
			if err := ValidDID(*v); err != nil {
				return ExtensionOutside{}, Errorf(EINVALID, "caller ID %s", err.Error())
			}
		}
	}
	if p := s.Permission; p != nil && *p != PermInternal && *p != PermNational && *p != PermInternational {
		return ExtensionOutside{}, Errorf(EINVALID, "outside permission %q: give internal, national or international", *p)
	}
	t, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		return ExtensionOutside{}, err
	}
	e, err := db.ExtensionByNumber(ctx, t.ID, number)
	if err != nil {
		return ExtensionOutside{}, err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO extension_outside (extension_id) VALUES (?)`, e.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE extension_outside SET
		outside_cid = coalesce(?, outside_cid), emergency_cid = coalesce(?, emergency_cid), permission = coalesce(?, permission)
		WHERE extension_id = ?`, s.OutsideCID, s.EmergencyCID, s.Permission, e.ID); err != nil {
			return err
		}
		return db.auditChange(ctx, tx, t.ID, "extension outside settings changed", e.AOR()+": "+describeSet(
			"outside caller ID", s.OutsideCID, "emergency caller ID", s.EmergencyCID, "permission", s.Permission))
	})
	if err != nil {
		return ExtensionOutside{}, err
	}
	return db.ExtensionOutside(ctx, e.ID)
}

// TenantOutside is how a tenant's calls go outside.
type TenantOutside struct {
	MainNumber       string   // caller ID of extensions with neither their own nor a DID
	NationalPrefixes []string // outside numbers starting with + or 00 but one of these are national
	StripPrefix      string   // dialled before an outside number, removed (e.g. "9")
	EmergencyNumbers []string // always allowed, tried before any other pattern
	NotifyEmail      string   // who hears of an emergency call
}

// DefaultEmergencyNumbers are a tenant's until an admin says otherwise.
var DefaultEmergencyNumbers = []string{"911", "112"}

// TenantOutsideSettings changes a tenant's outside settings; nil fields
// stay as they are.
type TenantOutsideSettings struct {
	MainNumber       *string
	NationalPrefixes *[]string
	StripPrefix      *string
	EmergencyNumbers *[]string
	NotifyEmail      *string
}

// TenantOutside is the outside settings of tenant id, with defaults.
func (db *DB) TenantOutside(ctx context.Context, id int64) (TenantOutside, error) {
	var o TenantOutside
	var national, emergency string
	err := db.sql.QueryRowContext(ctx, `SELECT main_number, national_prefix, strip_prefix, emergency_numbers, notify_email
		FROM tenant_outside WHERE tenant_id = ?`, id).Scan(&o.MainNumber, &national, &o.StripPrefix, &emergency, &o.NotifyEmail)
	if errors.Is(err, sql.ErrNoRows) {
		o.EmergencyNumbers = append([]string(nil), DefaultEmergencyNumbers...)
		return o, nil
	}
	o.NationalPrefixes = splitList(national)
	o.EmergencyNumbers = splitList(emergency)
	return o, err
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ParseNumberList reads "911,112" into numbers, each checked as a
// dialable number (digits, optional +).
func ParseNumberList(s string) ([]string, error) {
	list := splitList(s)
	for _, n := range list {
		if err := ValidDID(n); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// SetTenantOutside changes the outside settings of the tenant domain.
func (db *DB) SetTenantOutside(ctx context.Context, domain string, s TenantOutsideSettings) (TenantOutside, error) {
	if s.MainNumber != nil && *s.MainNumber != "" {
		if err := ValidDID(*s.MainNumber); err != nil {
			return TenantOutside{}, Errorf(EINVALID, "main %s", err.Error())
		}
	}
	if s.StripPrefix != nil && strings.Trim(*s.StripPrefix, "0123456789*#") != "" {
		return TenantOutside{}, Errorf(EINVALID, "outbound prefix %q: digits only", *s.StripPrefix)
	}
	if s.EmergencyNumbers != nil && len(*s.EmergencyNumbers) == 0 {
		return TenantOutside{}, Errorf(EINVALID, "emergency numbers: give at least one")
	}
	if s.NotifyEmail != nil && strings.ContainsAny(*s.NotifyEmail, " \r\n<>") {
		return TenantOutside{}, Errorf(EINVALID, "notification e-mail %q is not an address", *s.NotifyEmail)
	}
	t, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		return TenantOutside{}, err
	}
	join := func(l *[]string) any {
		if l == nil {
			return nil
		}
		return strings.Join(*l, ",")
	}
	str := func(l *[]string) *string {
		if l == nil {
			return nil
		}
		v := strings.Join(*l, ",")
		return &v
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO tenant_outside (tenant_id) VALUES (?)`, t.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenant_outside SET
		main_number = coalesce(?, main_number), national_prefix = coalesce(?, national_prefix),
		strip_prefix = coalesce(?, strip_prefix), emergency_numbers = coalesce(?, emergency_numbers),
		notify_email = coalesce(?, notify_email) WHERE tenant_id = ?`,
			s.MainNumber, join(s.NationalPrefixes), s.StripPrefix, join(s.EmergencyNumbers), s.NotifyEmail, t.ID); err != nil {
			return err
		}
		return db.auditChange(ctx, tx, t.ID, "tenant outside settings changed", describeSet("main number", s.MainNumber,
			"national prefixes", str(s.NationalPrefixes), "outbound prefix", s.StripPrefix,
			"emergency numbers", str(s.EmergencyNumbers), "notification e-mail", s.NotifyEmail))
	})
	if err != nil {
		return TenantOutside{}, err
	}
	return db.TenantOutside(ctx, t.ID)
}

// describeSet lists the settings given (name, value pairs; nil = not
// given) for an audit row.
func describeSet(pairs ...any) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if v, ok := pairs[i+1].(*string); ok && v != nil {
			parts = append(parts, fmt.Sprintf("%s %q", pairs[i], *v))
		}
	}
	return strings.Join(parts, ", ")
}
