package store

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"time"
)

// Tenant is one SIP domain with its own extensions.
type Tenant struct {
	ID            int64
	Domain        string
	Default       bool
	HasCompanyPIN bool
	CreatedAt     time.Time

	// Hot desking (migration 0002; set with UpdateTenant).
	HotdeskLogin    bool          // *072 works at this tenant's phones
	HotdeskLogout   bool          // *073 works at this tenant's phones
	AutologoutAt    string        // "HH:MM" server local time; "" none
	AutologoutAfter time.Duration // longest session at its seats; 0 none

	// MWIUnsolicited: phones of the tenant that do not subscribe to
	// message-summary get their light by unsolicited NOTIFYs (migration
	// 0012; set with UpdateTenant).
	MWIUnsolicited bool
}

const tenantCols = `id, domain, is_default, company_pin IS NOT NULL, created_at,
	hotdesk_login, hotdesk_logout, coalesce(autologout_at, ''), coalesce(autologout_after, 0), mwi_unsolicited`

func scanTenant(row scanner) (*Tenant, error) {
	var t Tenant
	var created, after int64
	if err := row.Scan(&t.ID, &t.Domain, &t.Default, &t.HasCompanyPIN, &created,
		&t.HotdeskLogin, &t.HotdeskLogout, &t.AutologoutAt, &after, &t.MWIUnsolicited); err != nil {
		return nil, err
	}
	t.CreatedAt = time.UnixMilli(created)
	t.AutologoutAfter = time.Duration(after) * time.Second
	return &t, nil
}

// CreateTenant adds a tenant. The first tenant ever created becomes the
// default one, as does any created with makeDefault.
func (db *DB) CreateTenant(ctx context.Context, domain, companyPIN string, makeDefault bool) (*Tenant, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if err := ValidDomain(domain); err != nil {
		return nil, err
	}
	var pinHash sql.NullString
	if companyPIN != "" {
		if err := ValidCompanyPIN(companyPIN); err != nil {
			return nil, err
		}
		pinHash = sql.NullString{String: HashPIN(companyPIN), Valid: true}
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants WHERE is_default = 1`).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		makeDefault = true
	}
	if makeDefault {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET is_default = 0 WHERE is_default = 1`); err != nil {
			return nil, err
		}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO tenants (domain, is_default, company_pin, created_at) VALUES (?, ?, ?, ?)`,
		domain, makeDefault, pinHash, db.now())
	if isUniqueViolation(err) {
		return nil, FieldErrorf("domain", ECONFLICT, "tenant %s already exists", domain)
	}
	if err != nil {
		return nil, err
	}
	id, _ := res.LastInsertId()
	t, err := scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	detail := t.Domain
	if t.HasCompanyPIN {
		detail += ", company PIN set"
	}
	if err := db.auditChange(ctx, tx, t.ID, "tenant added", detail); err != nil {
		return nil, err
	}
	return t, tx.Commit()
}

// SetDefaultTenant moves the default mark to domain.
func (db *DB) SetDefaultTenant(ctx context.Context, domain string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE tenants SET is_default = 0 WHERE is_default = 1`); err != nil {
		return err
	}
	domain = strings.ToLower(domain)
	var id int64
	err = tx.QueryRowContext(ctx, `UPDATE tenants SET is_default = 1 WHERE domain = ? RETURNING id`, domain).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "no tenant %s", domain)
	}
	if err != nil {
		return err
	}
	if err := db.auditChange(ctx, tx, id, "default tenant", domain+" is now the default tenant"); err != nil {
		return err
	}
	return tx.Commit()
}

// TenantByDomain returns the tenant named domain.
func (db *DB) TenantByDomain(ctx context.Context, domain string) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE domain = ?`, strings.ToLower(domain)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no tenant %s", domain)
	}
	return t, err
}

// ResolveTenant returns the tenant a SIP request for domain belongs to:
// the tenant of that name, or the default tenant when domain is an IP
// address (phones set up with the box's address). A name that is no
// tenant's is not found: it is somebody else's domain.
func (db *DB) ResolveTenant(ctx context.Context, domain string) (*Tenant, error) {
	domain = strings.ToLower(domain)
	if IsIPHost(domain) {
		return db.DefaultTenant(ctx)
	}
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE domain = ?`, domain))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no tenant for %s", domain)
	}
	return t, err
}

// DefaultTenant is the tenant of requests addressed to an IP address.
func (db *DB) DefaultTenant(ctx context.Context) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE is_default = 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no default tenant")
	}
	return t, err
}

// IsIPHost reports whether a SIP host is an IP address (bracketed IPv6
// included) rather than a domain name.
func IsIPHost(host string) bool {
	return net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")) != nil
}

// Tenants lists every tenant by domain.
func (db *DB) Tenants(ctx context.Context) ([]*Tenant, error) {
	return queryAll(ctx, db.sql, scanTenant, `SELECT `+tenantCols+` FROM tenants ORDER BY domain`)
}

// TenantByID returns a tenant by its row ID.
func (db *DB) TenantByID(ctx context.Context, id int64) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	return t, err
}

// TenantUpdate is what an admin may change of a tenant. The domain is
// not among it: it is the digest realm, so renaming a tenant would
// invalidate every SIP password of its extensions.
type TenantUpdate struct {
	HotdeskSettings
	// MakeDefault moves the default mark to this tenant.
	MakeDefault bool
	// MWIUnsolicited turns unsolicited message-summary NOTIFYs on or
	// off; nil leaves it.
	MWIUnsolicited *bool
}

// DeleteTenant removes a tenant with its extensions, their registrations
// and its tenant admins. The default tenant goes only when it is the last
// one: phones set up with the box's IP address would otherwise belong to
// nobody without the admin having chosen where they go.
func (db *DB) DeleteTenant(ctx context.Context, id int64) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		t, err := scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "no such tenant")
		}
		if err != nil {
			return err
		}
		if t.Default {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM tenants`).Scan(&n); err != nil {
				return err
			}
			if n > 1 {
				return Errorf(EINVALID, "%s is the default tenant: make another tenant the default first", t.Domain)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tenants WHERE id = ?`, id); err != nil {
			return err
		}
		return db.auditChange(ctx, tx, 0, "tenant deleted", t.Domain+", with its extensions")
	})
}

// ExtensionCounts returns how many extensions each tenant has, by tenant ID.
func (db *DB) ExtensionCounts(ctx context.Context) (map[int64]int, error) {
	return queryMap[int64, int](ctx, db.sql, `SELECT tenant_id, count(*) FROM extensions GROUP BY tenant_id`)
}
