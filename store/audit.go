package store

import (
	"context"
	"strings"
	"time"
)

// AuditEntry is one line of the audit log: a hot-desk event or an admin's
// change. It never holds a secret, only that one changed.
type AuditEntry struct {
	ID           int64
	At           time.Time
	TenantID     int64 // the person's tenant, else the seat's; 0 when neither is known
	SeatTenantID int64
	Actor        string // seat AOR, admin name or "system"
	Action       string
	Person       string // AOR of whoever the entry is about
	Seat         string // AOR of the phone
	Source       string
	IDTried      string
	Outcome      string
	Detail       string
}

type actorKey struct{}

// WithActor returns ctx carrying who makes the changes done with it (for
// an admin "admin:NAME"). Every store write given such a context writes
// its audit row in its own transaction, so the log holds exactly the
// changes that were committed. Without an actor nothing is audited.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor WithActor put in ctx, "" if none.
func ActorOf(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// auditChange writes an admin change to the audit log within the change's
// own transaction q, if ctx names an actor.
func (db *DB) auditChange(ctx context.Context, q execQuerier, tenantID int64, what, detail string) error {
	actor := ActorOf(ctx)
	if actor == "" {
		return nil
	}
	return insertAudit(ctx, q, AuditEntry{At: db.Now(), TenantID: tenantID, SeatTenantID: tenantID, Actor: actor,
		Action: "admin-change", Outcome: what, Detail: detail})
}

func insertAudit(ctx context.Context, q execQuerier, a AuditEntry) error {
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log
		(at, tenant_id, seat_tenant_id, actor, action, person, seat, source, id_tried, outcome, detail)
		VALUES (?, nullif(?, 0), nullif(?, 0), ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.At.UnixMilli(), a.TenantID, a.SeatTenantID, a.Actor, a.Action, a.Person, a.Seat, a.Source,
		truncate(a.IDTried, 16), a.Outcome, a.Detail)
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// RecordAudit appends one entry to the audit log on its own, for events
// that change nothing in the database (an admin hanging up a call).
func (db *DB) RecordAudit(ctx context.Context, a AuditEntry) error {
	if a.At.IsZero() {
		a.At = db.Now()
	}
	if a.SeatTenantID == 0 {
		a.SeatTenantID = a.TenantID
	}
	return insertAudit(ctx, db.sql, a)
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
	if limit <= 0 || limit > 100000 {
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
		FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
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

// HotdeskAudit returns the newest limit audit entries about tenantID's
// people or phones (every tenant when it is 0), newest first.
func (db *DB) HotdeskAudit(ctx context.Context, tenantID int64, limit int) ([]AuditEntry, error) {
	out, _, err := db.AuditLog(ctx, AuditFilter{TenantID: tenantID}, limit)
	return out, err
}

// AuditValues lists the distinct actions and outcomes in the audit log of
// a tenant (all when 0), for the filter's choices.
func (db *DB) AuditValues(ctx context.Context, tenantID int64) (actions, outcomes []string, err error) {
	for _, col := range []string{"action", "outcome"} {
		rows, err := db.sql.QueryContext(ctx, `SELECT DISTINCT `+col+` FROM audit_log
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
