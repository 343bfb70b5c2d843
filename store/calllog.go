package store

import (
	"context"
	"database/sql"
	"time"
)

// CallRecord is one ended call in the call log.
type CallRecord struct {
	ID             int64
	TenantID       int64 // the callee's tenant, else the caller's
	CallerTenantID int64
	CallID         string
	Caller         string // AOR the call was made as
	Callee         string // AOR dialled; "" for features and refused calls
	Started        time.Time
	Answered       time.Time // zero if nobody answered
	Ended          time.Time
	Outcome        string // pbx's Outcome constants
	Direction      string // pbx's Direction constants: "", "in" (from a trunk) or "out" (to one)
}

// Outcomes counted as missed: someone rang and nobody took the call (an
// outside number we called is nobody's to miss). They are pbx's outcome
// and direction names (store cannot import pbx, which imports it).
const missedSQL = `callee <> '' AND direction <> 'out' AND outcome IN ('busy', 'no_answer', 'cancelled')`

// RecordCall appends one ended call to the call log.
func (db *DB) RecordCall(ctx context.Context, c CallRecord) error {
	if c.CallerTenantID == 0 {
		c.CallerTenantID = c.TenantID
	}
	var answered sql.NullInt64
	if !c.Answered.IsZero() {
		answered = sql.NullInt64{Int64: c.Answered.UnixMilli(), Valid: true}
	}
	_, err := db.exec(ctx, `INSERT INTO call_log
		(tenant_id, caller_tenant_id, call_id, caller, callee, started_at, answered_at, ended_at, outcome, direction)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.TenantID, c.CallerTenantID, c.CallID, c.Caller, c.Callee, c.Started.UnixMilli(), answered,
		c.Ended.UnixMilli(), c.Outcome, c.Direction)
	return err
}

// CallLog returns up to limit calls of a tenant (0: every tenant), newest
// first.
func (db *DB) CallLog(ctx context.Context, tenantID int64, limit int) ([]CallRecord, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	return queryAll(ctx, db.sql, func(r scanner) (CallRecord, error) {
		var c CallRecord
		var started, ended int64
		var answered sql.NullInt64
		err := r.Scan(&c.ID, &c.TenantID, &c.CallerTenantID, &c.CallID, &c.Caller, &c.Callee, &started, &answered, &ended, &c.Outcome, &c.Direction)
		c.Started, c.Ended = time.UnixMilli(started), time.UnixMilli(ended)
		if answered.Valid {
			c.Answered = time.UnixMilli(answered.Int64)
		}
		return c, err
	}, `SELECT id, tenant_id, caller_tenant_id, call_id, caller, callee, started_at, answered_at, ended_at, outcome, direction
		FROM call_log WHERE ? = 0 OR tenant_id = ? OR caller_tenant_id = ?
		ORDER BY started_at DESC, id DESC LIMIT ?`, tenantID, tenantID, tenantID, limit)
}

// SweepCallLog deletes the calls that started before cutoff and says how
// many went.
func (db *DB) SweepCallLog(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM call_log WHERE started_at < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// CallHour is the calls of one hour, by when they started.
type CallHour struct {
	Start            time.Time
	Answered, Missed int
}

// CallsPerHour counts a tenant's calls (0: every tenant) in each of the
// hours hours from from. The caller aligns from to the hour of its clock,
// so the buckets are local hours even in a half-hour time zone.
func (db *DB) CallsPerHour(ctx context.Context, tenantID int64, from time.Time, hours int) ([]CallHour, error) {
	counts, err := db.perHour(ctx, from, hours, `SELECT (started_at - ?) / 3600000 AS h,
		sum(outcome = 'answered'), sum(`+missedSQL+`)
		FROM call_log WHERE started_at >= ? AND started_at < ? AND (? = 0 OR tenant_id = ? OR caller_tenant_id = ?)
		GROUP BY h`, tenantID)
	out := make([]CallHour, len(counts))
	for i, c := range counts {
		out[i] = CallHour{Start: from.Add(time.Duration(i) * time.Hour), Answered: c[0], Missed: c[1]}
	}
	return out, err
}

// LoginHour is the hot-desk logins of one hour.
type LoginHour struct {
	Start  time.Time
	Logins int
}

// LoginsPerHour counts, from the audit log, the hot-desk logins (a move
// to another phone included) by or on phones of a tenant (0: every
// tenant) in each of the hours hours from from.
func (db *DB) LoginsPerHour(ctx context.Context, tenantID int64, from time.Time, hours int) ([]LoginHour, error) {
	counts, err := db.perHour(ctx, from, hours, `SELECT (at - ?) / 3600000 AS h, count(*), 0
		FROM audit_log WHERE at >= ? AND at < ? AND (? = 0 OR tenant_id = ? OR seat_tenant_id = ?)
		AND action IN ('login', 'move') AND outcome = 'ok'
		GROUP BY h`, tenantID)
	out := make([]LoginHour, len(counts))
	for i, c := range counts {
		out[i] = LoginHour{Start: from.Add(time.Duration(i) * time.Hour), Logins: c[0]}
	}
	return out, err
}

// perHour runs query, which groups rows into hour h from its first
// argument and counts two things per hour, and returns hours buckets
// with the hours that had no rows at zero. Its arguments are from, the
// time range and the tenant three times.
func (db *DB) perHour(ctx context.Context, from time.Time, hours int, query string, tenantID int64) ([][2]int, error) {
	out := make([][2]int, hours)
	start, end := from.UnixMilli(), from.Add(time.Duration(hours)*time.Hour).UnixMilli()
	rows, err := db.sql.QueryContext(ctx, query, start, start, end, tenantID, tenantID, tenantID)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var h int
		var c [2]int
		if err := rows.Scan(&h, &c[0], &c[1]); err != nil {
			return out, err
		}
		if h >= 0 && h < hours {
			out[h] = c
		}
	}
	return out, rows.Err()
}
