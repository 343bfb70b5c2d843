package store

import (
	"context"
	"database/sql"
	"errors"
)

// TenantByID returns a tenant by its row ID.
func (db *DB) TenantByID(ctx context.Context, id int64) (*Tenant, error) {
	t, err := scanTenant(db.sql.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	return t, err
}

// TenantUpdate is what the admin page may change of a tenant. The domain
// is not among it: it is the digest realm, so renaming a tenant would
// invalidate every SIP password of its extensions.
type TenantUpdate struct {
	// CompanyPIN, when not nil, sets the hot-desk company PIN; an empty
	// string removes it.
	CompanyPIN *string
	// MakeDefault moves the default mark to this tenant.
	MakeDefault bool
}

// UpdateTenant applies u to tenant id in one transaction.
func (db *DB) UpdateTenant(ctx context.Context, id int64, u TenantUpdate) (*Tenant, error) {
	var pin sql.NullString
	if u.CompanyPIN != nil && *u.CompanyPIN != "" {
		if err := ValidPIN(*u.CompanyPIN); err != nil {
			return nil, invalidf("company_pin", "company %s", err.Error())
		}
		pin = sql.NullString{String: HashPIN(*u.CompanyPIN), Valid: true}
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	was, err := scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	} else if err != nil {
		return nil, err
	}
	if u.CompanyPIN != nil {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET company_pin = ? WHERE id = ?`, pin, id); err != nil {
			return nil, err
		}
	}
	if u.MakeDefault {
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET is_default = 0 WHERE is_default = 1 AND id <> ?`, id); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tenants SET is_default = 1 WHERE id = ?`, id); err != nil {
			return nil, err
		}
	}
	t, err := scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	if err != nil {
		return nil, err
	}
	if u.MakeDefault && !was.Default {
		if err := db.auditChange(ctx, tx, id, "default tenant", t.Domain+" is now the default tenant"); err != nil {
			return nil, err
		}
	}
	return t, tx.Commit()
}

// DeleteTenant removes a tenant with its extensions, their registrations
// and its tenant admins. The default tenant goes only when it is the last
// one: phones set up with the box's IP address would otherwise belong to
// nobody without the admin having chosen where they go.
func (db *DB) DeleteTenant(ctx context.Context, id int64) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
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
	if err := db.auditChange(ctx, tx, 0, "tenant deleted", t.Domain+", with its extensions"); err != nil {
		return err
	}
	return tx.Commit()
}

// ExtensionCounts returns how many extensions each tenant has, by tenant ID.
func (db *DB) ExtensionCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT tenant_id, count(*) FROM extensions GROUP BY tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
