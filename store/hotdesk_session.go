package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

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

// SeatedByCode is how a session is started: by *072 at the seat. (Rows
// written by older versions may say "admin".)
const SeatedByCode = "*072"

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

// RingTarget returns the extension whose registered phones ring for
// calls to a seated person: the dial string override, else the seat; nil
// when the person is not seated. Asked on every call: primary keys only.
func (db *DB) RingTarget(ctx context.Context, personID int64) (*Extension, error) {
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

func hotdeskSessions(ctx context.Context, q queryer, tenantID int64) ([]*HotdeskSession, error) {
	return queryAll(ctx, q, scanHotdeskSession, hotdeskSessionQuery+`WHERE ? = 0 OR pe.tenant_id = ? OR de.tenant_id = ?
		ORDER BY s.since, s.person_id`, tenantID, tenantID, tenantID)
}

// HotdeskSessions lists live sessions whose person or seat belongs to
// tenantID (every session when it is 0), oldest first.
func (db *DB) HotdeskSessions(ctx context.Context, tenantID int64) ([]*HotdeskSession, error) {
	return hotdeskSessions(ctx, db.sql, tenantID)
}
