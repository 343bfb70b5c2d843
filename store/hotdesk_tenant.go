package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// HotdeskSettings changes a tenant's hot-desk settings; nil fields are
// left as they are.
type HotdeskSettings struct {
	CompanyPIN      *string        // "" removes it
	Login, Logout   *bool          // whether *072 / *073 work at the tenant's phones
	AutologoutAt    *string        // "HH:MM" server local time; "" turns it off
	AutologoutAfter *time.Duration // 0 turns it off
}

// ParseAutologoutAt checks a daily auto-logout time, "HH:MM" on a 24-hour clock.
func ParseAutologoutAt(s string) (hour, minute int, err error) {
	t, perr := time.Parse("15:04", s)
	if perr != nil || len(s) != 5 {
		return 0, 0, invalidf("autologout_at", "auto-logout time %q is not HH:MM (00:00 to 23:59)", s)
	}
	return t.Hour(), t.Minute(), nil
}

// SetTenantHotdesk changes the hot-desk settings of tenant domain, all or
// nothing, and returns the tenant as it now is.
func (db *DB) SetTenantHotdesk(ctx context.Context, domain string, s HotdeskSettings, actor string) (*Tenant, error) {
	return db.UpdateTenant(ctx, domain, TenantUpdate{HotdeskSettings: s}, actor)
}

// UpdateTenant applies u to tenant domain in one transaction, with the
// audit rows of what it changed: an admin's form saves the default mark
// and the hot-desk settings together, or neither.
func (db *DB) UpdateTenant(ctx context.Context, domain string, u TenantUpdate, actor string) (*Tenant, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	s := u.HotdeskSettings
	var sets []string
	var args []any
	var changes []string
	if s.CompanyPIN != nil {
		if *s.CompanyPIN == "" {
			sets = append(sets, "company_pin = NULL")
			changes = append(changes, "company PIN removed")
		} else {
			if err := ValidCompanyPIN(*s.CompanyPIN); err != nil {
				return nil, err
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
	if u.MWIUnsolicited != nil {
		sets, args = append(sets, "mwi_unsolicited = ?"), append(args, *u.MWIUnsolicited)
		changes = append(changes, "unsolicited message-waiting NOTIFYs "+onOff(*u.MWIUnsolicited))
	}
	if len(sets) == 0 && !u.MakeDefault {
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
		if len(sets) > 0 {
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
		}
		if u.MakeDefault && !t.Default {
			// Cleared first: the unique index allows one default at a time.
			for _, q := range []string{`UPDATE tenants SET is_default = 0 WHERE is_default = 1 AND id <> ?`, `UPDATE tenants SET is_default = 1 WHERE id = ?`} {
				if _, err := tx.tx.ExecContext(ctx, q, t.ID); err != nil {
					return err
				}
			}
			if err := tx.Audit(AuditEntry{At: db.Now(), TenantID: t.ID, SeatTenantID: t.ID, Actor: actor, Action: "admin-change",
				Outcome: "default tenant", Detail: domain + " is now the default tenant"}); err != nil {
				return err
			}
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

// HotdeskTenant returns tenant id with its hot-desk settings.
func (db *DB) HotdeskTenant(ctx context.Context, id int64) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	return t, err
}
