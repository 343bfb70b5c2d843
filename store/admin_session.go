package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// AdminSession is a logged-in browser.
type AdminSession struct {
	Admin    *Admin
	Created  time.Time
	LastSeen time.Time
	ClientIP string
}

// CreateAdminSession starts a session for an admin and returns its ID,
// the cookie value; only its hash is stored.
func (db *DB) CreateAdminSession(ctx context.Context, adminID int64, clientIP string) (string, error) {
	token := newSecret()
	now := db.now()
	_, err := db.exec(ctx, `INSERT INTO admin_sessions (token_hash, admin_id, created_at, last_seen, client_ip) VALUES (?, ?, ?, ?, ?)`,
		hashSecret(token), adminID, now, now, clientIP)
	if err != nil {
		return "", err
	}
	return token, nil
}

// AdminSession returns the live session with ID token. A session idle for
// longer than idle, or older than maxAge, is ended and not found.
func (db *DB) AdminSession(ctx context.Context, token string, idle, maxAge time.Duration) (*AdminSession, error) {
	if token == "" {
		return nil, Errorf(ENOTFOUND, "no session")
	}
	h := hashSecret(token)
	var s AdminSession
	var created, seen int64
	var adminID int64
	err := db.sql.QueryRowContext(ctx, `SELECT admin_id, created_at, last_seen, client_ip FROM admin_sessions WHERE token_hash = ?`, h).
		Scan(&adminID, &created, &seen, &s.ClientIP)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no session")
	}
	if err != nil {
		return nil, err
	}
	s.Created, s.LastSeen = time.UnixMilli(created), time.UnixMilli(seen)
	now := db.Now()
	if now.Sub(s.LastSeen) > idle || now.Sub(s.Created) > maxAge {
		db.exec(ctx, `DELETE FROM admin_sessions WHERE token_hash = ?`, h)
		return nil, Errorf(ENOTFOUND, "session expired")
	}
	if s.Admin, err = db.AdminByID(ctx, adminID); err != nil {
		return nil, err
	}
	return &s, nil
}

// TouchAdminSession records activity on a session, which keeps it from
// idling out.
func (db *DB) TouchAdminSession(ctx context.Context, token string) error {
	_, err := db.exec(ctx, `UPDATE admin_sessions SET last_seen = ? WHERE token_hash = ?`, db.now(), hashSecret(token))
	return err
}

// DeleteAdminSession ends a session (logout).
func (db *DB) DeleteAdminSession(ctx context.Context, token string) error {
	_, err := db.exec(ctx, `DELETE FROM admin_sessions WHERE token_hash = ?`, hashSecret(token))
	return err
}

// DeleteExpiredAdminSessions removes sessions idle longer than idle or
// older than maxAge.
func (db *DB) DeleteExpiredAdminSessions(ctx context.Context, idle, maxAge time.Duration) (int64, error) {
	now := db.Now()
	res, err := db.exec(ctx, `DELETE FROM admin_sessions WHERE last_seen < ? OR created_at < ?`,
		now.Add(-idle).UnixMilli(), now.Add(-maxAge).UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// APIToken is a bearer token of the JSON API, as listed (the token itself
// is shown once, when created).
type APIToken struct {
	ID        int64
	AdminID   int64
	Name      string
	CreatedAt time.Time
	LastUsed  time.Time // zero when never used
	ExpiresAt time.Time
}

// APITokenLifetime is how long a new API token works. A token lives in
// scripts and their logs; one that ends on its own limits what a leaked
// copy is worth. A variable so tests can shorten it.
var APITokenLifetime = 90 * 24 * time.Hour

// apiTokenPrefix makes a leaked token recognisable to secret scanners and
// to the admin who finds it in a script.
const apiTokenPrefix = "dpx_"

// CreateAPIToken makes a bearer token for an admin and returns it with
// its listing.
func (db *DB) CreateAPIToken(ctx context.Context, adminID int64, name string) (string, *APIToken, error) {
	name, err := CleanDisplayName(name)
	if err != nil {
		return "", nil, err
	}
	if name == "" {
		return "", nil, Errorf(EINVALID, "name is empty")
	}
	token := apiTokenPrefix + newSecret()
	now := db.Now()
	expires := now.Add(APITokenLifetime)
	res, err := db.exec(ctx, `INSERT INTO admin_tokens (admin_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		adminID, name, hashSecret(token), now.UnixMilli(), expires.UnixMilli())
	if err != nil {
		return "", nil, err
	}
	id, _ := res.LastInsertId()
	return token, &APIToken{ID: id, AdminID: adminID, Name: name, CreatedAt: time.UnixMilli(now.UnixMilli()), ExpiresAt: time.UnixMilli(expires.UnixMilli())}, nil
}

// APITokens lists an admin's tokens, newest first.
func (db *DB) APITokens(ctx context.Context, adminID int64) ([]*APIToken, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, admin_id, name, created_at, coalesce(last_used, 0), coalesce(expires_at, 0) FROM admin_tokens
		WHERE admin_id = ? ORDER BY created_at DESC, id DESC`, adminID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*APIToken
	for rows.Next() {
		var t APIToken
		var created, used, expires int64
		if err := rows.Scan(&t.ID, &t.AdminID, &t.Name, &created, &used, &expires); err != nil {
			return nil, err
		}
		t.CreatedAt, t.ExpiresAt = time.UnixMilli(created), time.UnixMilli(expires)
		if used != 0 {
			t.LastUsed = time.UnixMilli(used)
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// DeleteAPIToken revokes one of an admin's tokens.
func (db *DB) DeleteAPIToken(ctx context.Context, adminID, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM admin_tokens WHERE id = ? AND admin_id = ?`, id, adminID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "no such token")
	}
	return nil
}

// AdminByAPIToken returns the admin a bearer token belongs to.
func (db *DB) AdminByAPIToken(ctx context.Context, token string) (*Admin, error) {
	if !strings.HasPrefix(token, apiTokenPrefix) {
		return nil, Errorf(EUNAUTHORIZED, "invalid token")
	}
	h := hashSecret(token)
	var adminID, used int64
	err := db.sql.QueryRowContext(ctx, `SELECT admin_id, coalesce(last_used, 0) FROM admin_tokens WHERE token_hash = ? AND expires_at > ?`, h, db.now()).Scan(&adminID, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(EUNAUTHORIZED, "invalid token")
	}
	if err != nil {
		return nil, err
	}
	// A script polling every second should not turn into a write per
	// request; a minute's precision is enough to spot an unused token.
	if now := db.now(); now-used > int64(time.Minute/time.Millisecond) {
		db.exec(ctx, `UPDATE admin_tokens SET last_used = ? WHERE token_hash = ?`, now, h)
	}
	return db.AdminByID(ctx, adminID)
}
