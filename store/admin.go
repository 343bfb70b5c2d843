package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// EUNAUTHORIZED is a failed login or an unknown token. Its message never
// says whether the username exists.
const EUNAUTHORIZED = "unauthorized"

// Admin is an account of the admin page and API.
type Admin struct {
	ID       int64
	Username string
	// TenantID is the one tenant a tenant admin manages; 0 for a system
	// admin, who manages all of them.
	TenantID  int64
	Domain    string // the tenant's domain; empty for a system admin
	CreatedAt time.Time
	// MustChangePassword is set on an account whose password deskpbx
	// generated (the first admin): until it is changed, the page allows
	// nothing else.
	MustChangePassword bool
}

// System reports whether a is a system admin.
func (a *Admin) System() bool { return a.TenantID == 0 }

// Role is how a's role reads on the page and in the API.
func (a *Admin) Role() string {
	if a.System() {
		return "system"
	}
	return "tenant"
}

// AdminPasswordCost is the bcrypt cost of admin passwords. A variable so
// tests that log in hundreds of times can lower it.
var AdminPasswordCost = bcrypt.DefaultCost

// dummyHash is compared against when a username does not exist, so a
// failed login takes as long for an unknown name as for a wrong password.
// It is made at the current cost, the cost of the real hashes.
func dummyHash() []byte {
	dummyMu.Lock()
	defer dummyMu.Unlock()
	if h, ok := dummyHashes[AdminPasswordCost]; ok {
		return h
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("no such admin"), AdminPasswordCost)
	dummyHashes[AdminPasswordCost] = h
	return h
}

var (
	dummyMu     sync.Mutex
	dummyHashes = map[int][]byte{}
)

const adminCols = `a.id, a.username, coalesce(a.tenant_id, 0), coalesce(t.domain, ''), a.created_at, a.must_change_password`
const adminFrom = ` FROM admins a LEFT JOIN tenants t ON t.id = a.tenant_id `

func scanAdmin(row scanner) (*Admin, error) {
	var a Admin
	var created int64
	if err := row.Scan(&a.ID, &a.Username, &a.TenantID, &a.Domain, &created, &a.MustChangePassword); err != nil {
		return nil, err
	}
	a.CreatedAt = time.UnixMilli(created)
	return &a, nil
}

// ValidAdminUsername checks a login name: 1 to 64 letters, digits and
// . _ - @, so it can be typed on any keyboard and shown in any log.
func ValidAdminUsername(u string) error {
	if u == "" {
		return invalidf("username", "username is empty")
	}
	if len(u) > 64 {
		return invalidf("username", "username is longer than 64 characters")
	}
	for _, c := range u {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)) {
			return invalidf("username", "username may contain only letters, digits and . _ - @")
		}
	}
	return nil
}

// ValidAdminPassword refuses passwords that an attacker would try first.
// The admin page controls every extension's credentials, so the bar is
// higher than for a SIP password.
func ValidAdminPassword(pw, username string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case pw == "":
		return invalidf("password", "password is empty")
	case n < 10:
		return invalidf("password", "password is shorter than 10 characters")
	case len(pw) > 72:
		// bcrypt ignores everything after 72 bytes.
		return invalidf("password", "password is longer than 72 bytes")
	case username != "" && strings.Contains(strings.ToLower(pw), strings.ToLower(username)):
		return invalidf("password", "password contains the username")
	}
	if err := commonPassword(pw); err != nil {
		return err
	}
	return nil
}

// commonPassword refuses passwords built from few distinct characters or
// from the handful of words every password list starts with.
func commonPassword(pw string) error {
	distinct := map[rune]bool{}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return invalidf("password", "password contains a control character")
		}
		distinct[unicode.ToLower(r)] = true
	}
	if len(distinct) < 5 {
		return invalidf("password", "password uses fewer than 5 different characters; choose a less guessable one")
	}
	lower := strings.ToLower(pw)
	for _, w := range commonWords {
		if strings.Contains(lower, w) && len(lower)-len(w) < 6 {
			return invalidf("password", "password is built on %q, one of the first words attackers try", w)
		}
	}
	return nil
}

var commonWords = []string{"password", "passw0rd", "123456", "qwerty", "azerty", "letmein", "welcome", "admin", "secret", "changeme", "abc123", "iloveyou", "deskpbx", "default"}

// CreateAdmin adds an admin account; tenantID 0 makes a system admin.
func (db *DB) CreateAdmin(ctx context.Context, username, password string, tenantID int64) (*Admin, error) {
	if err := ValidAdminUsername(username); err != nil {
		return nil, err
	}
	if err := ValidAdminPassword(password, username); err != nil {
		return nil, err
	}
	var a *Admin
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = db.insertAdmin(ctx, tx, username, password, tenantID); err != nil {
			return err
		}
		return db.auditChange(ctx, tx, a.TenantID, "admin added", a.Username+" ("+a.Role()+")")
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (db *DB) insertAdmin(ctx context.Context, q execQuerier, username, password string, tenantID int64) (*Admin, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), AdminPasswordCost)
	if err != nil {
		return nil, err
	}
	tenant := sql.NullInt64{Int64: tenantID, Valid: tenantID != 0}
	res, err := q.ExecContext(ctx, `INSERT INTO admins (username, password_hash, tenant_id, created_at) VALUES (?, ?, ?, ?)`,
		username, string(hash), tenant, db.now())
	if isUniqueViolation(err) {
		return nil, FieldErrorf("username", ECONFLICT, "username %s is already in use", username)
	}
	if isConstraintViolation(err) && tenantID != 0 {
		return nil, Errorf(ENOTFOUND, "no such tenant")
	}
	if err != nil {
		return nil, err
	}
	id, _ := res.LastInsertId()
	return scanAdmin(q.QueryRowContext(ctx, `SELECT `+adminCols+adminFrom+`WHERE a.id = ?`, id))
}

// CreateFirstAdmin creates a system admin only when no admin exists yet,
// in one transaction, so two starts racing cannot both print a password.
func (db *DB) CreateFirstAdmin(ctx context.Context, username, password string) (*Admin, bool, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
		return nil, false, err
	}
	if n > 0 {
		return nil, false, nil
	}
	a, err := db.insertAdmin(ctx, tx, username, password, 0)
	if err != nil {
		return nil, false, err
	}
	// Its password went to a terminal or a file: it must not stay the
	// key to every extension's credentials.
	if _, err := tx.ExecContext(ctx, `UPDATE admins SET must_change_password = 1 WHERE id = ?`, a.ID); err != nil {
		return nil, false, err
	}
	a.MustChangePassword = true
	return a, true, tx.Commit()
}

// AdminByID returns an admin account.
func (db *DB) AdminByID(ctx context.Context, id int64) (*Admin, error) {
	a, err := scanAdmin(db.sql.QueryRowContext(ctx, `SELECT `+adminCols+adminFrom+`WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no such admin")
	}
	return a, err
}

// Admins lists the admins of a tenant, or every admin when tenantID is 0.
func (db *DB) Admins(ctx context.Context, tenantID int64) ([]*Admin, error) {
	return queryAll(ctx, db.sql, scanAdmin, `SELECT `+adminCols+adminFrom+`WHERE ? = 0 OR a.tenant_id = ?
		ORDER BY a.tenant_id IS NOT NULL, t.domain, a.username`, tenantID, tenantID)
}

// AuthenticateAdmin checks a username and password.
func (db *DB) AuthenticateAdmin(ctx context.Context, username, password string) (*Admin, error) {
	var id int64
	var hash string
	err := db.sql.QueryRowContext(ctx, `SELECT id, password_hash FROM admins WHERE username = ?`, username).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return nil, Errorf(EUNAUTHORIZED, "wrong username or password")
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, Errorf(EUNAUTHORIZED, "wrong username or password")
	}
	return db.AdminByID(ctx, id)
}

// SetAdminPassword changes an admin's password and ends all of that
// admin's sessions and revokes its API tokens: whoever knew the old
// password, or made a token with it, is shut out.
func (db *DB) SetAdminPassword(ctx context.Context, id int64, password string) error {
	a, err := db.AdminByID(ctx, id)
	if err != nil {
		return err
	}
	if err := ValidAdminPassword(password, a.Username); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), AdminPasswordCost)
	if err != nil {
		return err
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ?, must_change_password = 0 WHERE id = ?`, string(hash), id); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM admin_sessions WHERE admin_id = ?`, `DELETE FROM admin_tokens WHERE admin_id = ?`} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeleteAdmin removes an admin account with its sessions and tokens. The
// last system admin stays: without one nobody could add tenants.
func (db *DB) DeleteAdmin(ctx context.Context, id int64) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var tenant sql.NullInt64
	var username string
	err = tx.QueryRowContext(ctx, `SELECT tenant_id, username FROM admins WHERE id = ?`, id).Scan(&tenant, &username)
	if errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "no such admin")
	}
	if err != nil {
		return err
	}
	if !tenant.Valid {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM admins WHERE tenant_id IS NULL`).Scan(&n); err != nil {
			return err
		}
		if n <= 1 {
			return Errorf(EINVALID, "the last system admin cannot be deleted")
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM admins WHERE id = ?`, id); err != nil {
		return err
	}
	if err := db.auditChange(ctx, tx, tenant.Int64, "admin deleted", username); err != nil {
		return err
	}
	return tx.Commit()
}

// AdminCount is the number of admin accounts.
func (db *DB) AdminCount(ctx context.Context) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n)
	return n, err
}

// newSecret returns 256 random bits, URL-safe, for session IDs and tokens.
func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how session IDs and tokens are stored. A plain SHA-256
// suffices: they are 256 random bits, nothing to guess.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// GeneratePassword returns a random password for a new admin account,
// long enough to pass ValidAdminPassword and easy to copy.
func GeneratePassword() string {
	for {
		b := make([]byte, 15)
		rand.Read(b)
		pw := base64.RawURLEncoding.EncodeToString(b)
		if ValidAdminPassword(pw, "") == nil {
			return pw
		}
	}
}
