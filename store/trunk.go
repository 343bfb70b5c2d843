package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Secret is a value kept in clear because a protocol needs it (a trunk's
// digest password), and that must never be printed: every formatting
// path shows a mask. Reveal is the one way to the value.
type Secret string

func (s Secret) String() string               { return mask(s) }
func (s Secret) GoString() string             { return mask(s) }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(mask(s)) }
func (s Secret) MarshalText() ([]byte, error) { return []byte(mask(s)), nil }

// Reveal is the secret itself, for the digest computation only.
func (s Secret) Reveal() string { return string(s) }

func mask(s Secret) string {
	if s == "" {
		return ""
	}
	return "********"
}

// Trunk states, as the running server writes them.
const (
	TrunkUnregistered = "unregistered" // not tried yet
	TrunkRegistered   = "registered"   // a -register trunk, registered
	TrunkReachable    = "reachable"    // any other trunk, answering OPTIONS
	TrunkFailing      = "failing"
)

// Trunk is one line to a SIP provider.
type Trunk struct {
	ID         int64
	TenantID   int64
	Domain     string // the tenant's
	Name       string
	Host       string // host[:port] of the provider
	Transport  string // "udp" or "tcp"
	Username   string
	Password   Secret
	Register   bool   // deskpbx registers to the provider
	FromDomain string // host part of From towards the provider; "" = the provider host

	State       string
	StateReason string
	StateAt     time.Time
	CreatedAt   time.Time
}

// HostPort is the provider's address with the default SIP port added.
func (t *Trunk) HostPort() string {
	if _, _, err := net.SplitHostPort(t.Host); err == nil {
		return t.Host
	}
	return net.JoinHostPort(strings.Trim(t.Host, "[]"), "5060")
}

// Hostname is the provider's host without the port.
func (t *Trunk) Hostname() string {
	h, _, err := net.SplitHostPort(t.HostPort())
	if err != nil {
		return t.Host
	}
	return h
}

// NewTrunk is what an admin gives to add a trunk.
type NewTrunk struct {
	Domain     string
	Name       string
	Host       string
	Transport  string // "" = udp
	Username   string
	Password   string
	Register   bool
	FromDomain string
}

func (n NewTrunk) check() (NewTrunk, error) {
	n.Domain = strings.ToLower(strings.TrimSpace(n.Domain))
	n.Name = strings.TrimSpace(n.Name)
	n.Host = strings.ToLower(strings.TrimSpace(n.Host))
	n.Transport = strings.ToLower(strings.TrimSpace(n.Transport))
	n.FromDomain = strings.ToLower(strings.TrimSpace(n.FromDomain))
	if n.Transport == "" {
		n.Transport = "udp"
	}
	if n.Name == "" || len(n.Name) > 32 || strings.ContainsAny(n.Name, " \t\r\n") {
		return n, Errorf(EINVALID, "trunk name: give 1 to 32 characters without spaces")
	}
	if err := validHostPort(n.Host); err != nil {
		return n, err
	}
	if n.Transport != "udp" && n.Transport != "tcp" {
		return n, Errorf(EINVALID, "trunk transport %q: give udp or tcp", n.Transport)
	}
	if n.FromDomain != "" {
		if err := ValidDomain(n.FromDomain); err != nil {
			return n, Errorf(EINVALID, "from-domain: %s", err.Error())
		}
	}
	// These go into SIP headers (Authorization): no CR, LF or quotes.
	for _, v := range []string{n.Username, n.Password} {
		if strings.ContainsAny(v, "\r\n\"\\") || len(v) > 128 {
			return n, Errorf(EINVALID, "trunk username and password: at most 128 characters, no quotes, backslashes or line breaks")
		}
	}
	if n.Register && (n.Username == "" || n.Password == "") {
		return n, Errorf(EINVALID, "a registering trunk needs -username and -password")
	}
	return n, nil
}

func validHostPort(hp string) error {
	host := hp
	if h, p, err := net.SplitHostPort(hp); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Errorf(EINVALID, "trunk host %q: bad port", hp)
		}
		host = h
	}
	if host == "" || net.ParseIP(host) == nil && ValidDomain(host) != nil {
		return Errorf(EINVALID, "trunk host %q: give HOST or HOST:PORT", hp)
	}
	return nil
}

const trunkCols = `k.id, k.tenant_id, t.domain, k.name, k.host, k.transport, k.username, k.password,
	k.register, k.from_domain, k.state, k.state_reason, k.state_at, k.created_at`

func scanTrunk(row scanner) (*Trunk, error) {
	var k Trunk
	var pw string
	var stateAt, created int64
	if err := row.Scan(&k.ID, &k.TenantID, &k.Domain, &k.Name, &k.Host, &k.Transport, &k.Username, &pw,
		&k.Register, &k.FromDomain, &k.State, &k.StateReason, &stateAt, &created); err != nil {
		return nil, err
	}
	k.Password = Secret(pw)
	if stateAt != 0 {
		k.StateAt = time.UnixMilli(stateAt)
	}
	k.CreatedAt = time.UnixMilli(created)
	return &k, nil
}

// CreateTrunk adds a trunk to a tenant.
func (db *DB) CreateTrunk(ctx context.Context, n NewTrunk) (*Trunk, error) {
	n, err := n.check()
	if err != nil {
		return nil, err
	}
	t, err := db.TenantByDomain(ctx, n.Domain)
	if err != nil {
		return nil, err
	}
	var id int64
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO trunks
		(tenant_id, name, host, transport, username, password, register, from_domain, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, n.Name, n.Host, n.Transport, n.Username, n.Password, n.Register, n.FromDomain, db.now())
		if isUniqueViolation(err) {
			return Errorf(ECONFLICT, "tenant %s already has a trunk named %s", t.Domain, n.Name)
		}
		if err != nil {
			return err
		}
		id, _ = res.LastInsertId()
		// The audit row says a password was set, never which.
		detail := fmt.Sprintf("%s to %s (%s, register %t, user %q, password set %t)", n.Name, n.Host, n.Transport, n.Register, n.Username, n.Password != "")
		return db.auditChange(ctx, tx, t.ID, "trunk added", detail)
	})
	if err != nil {
		return nil, err
	}
	return db.TrunkByID(ctx, id)
}

// TrunkByID is one trunk.
func (db *DB) TrunkByID(ctx context.Context, id int64) (*Trunk, error) {
	k, err := scanTrunk(db.sql.QueryRowContext(ctx, `SELECT `+trunkCols+`
		FROM trunks k JOIN tenants t ON t.id = k.tenant_id WHERE k.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no trunk %d", id)
	}
	return k, err
}

// Trunks lists the trunks of one tenant (tenantID 0: of all), each
// tenant's in the order they were added: the first is its default.
func (db *DB) Trunks(ctx context.Context, tenantID int64) ([]*Trunk, error) {
	return queryAll(ctx, db.sql, scanTrunk, `SELECT `+trunkCols+`
		FROM trunks k JOIN tenants t ON t.id = k.tenant_id
		WHERE ? = 0 OR k.tenant_id = ? ORDER BY t.domain, k.id`, tenantID, tenantID)
}

// SetTrunkState records what the running server knows of a trunk, for
// the CLI and the admin page, which run apart from it.
func (db *DB) SetTrunkState(ctx context.Context, id int64, state, reason string) error {
	_, err := db.exec(ctx, `UPDATE trunks SET state = ?, state_reason = ?, state_at = ? WHERE id = ?`,
		state, truncate(reason, 200), db.now(), id)
	return err
}

// DID is a provider number that rings an extension.
type DID struct {
	Number    string
	TenantID  int64
	Extension *Extension
}

// ValidDID checks a provider number: digits with an optional leading +.
func ValidDID(number string) error {
	d := strings.TrimPrefix(number, "+")
	if d == "" || len(number) > 20 || strings.Trim(d, "0123456789") != "" {
		return Errorf(EINVALID, "number %q: give digits, optionally after a +, at most 20", number)
	}
	return nil
}

// CreateDID maps a provider number to an extension of the tenant.
func (db *DB) CreateDID(ctx context.Context, domain, number, extension string) (*DID, error) {
	number = strings.TrimSpace(number)
	if err := ValidDID(number); err != nil {
		return nil, err
	}
	t, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		return nil, err
	}
	e, err := db.ExtensionByNumber(ctx, t.ID, strings.TrimSpace(extension))
	if err != nil {
		return nil, err
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO dids (tenant_id, number, extension_id, created_at) VALUES (?, ?, ?, ?)`,
			t.ID, number, e.ID, db.now())
		if isUniqueViolation(err) {
			return Errorf(ECONFLICT, "number %s is already a DID", number)
		}
		if err != nil {
			return err
		}
		return db.auditChange(ctx, tx, t.ID, "DID added", number+" rings "+e.AOR())
	})
	if err != nil {
		return nil, err
	}
	return &DID{Number: number, TenantID: t.ID, Extension: e}, nil
}

// DIDByNumber is the extension a provider number rings.
func (db *DB) DIDByNumber(ctx context.Context, number string) (*DID, error) {
	var extID, tenantID int64
	err := db.sql.QueryRowContext(ctx, `SELECT extension_id, tenant_id FROM dids WHERE number = ?`, number).Scan(&extID, &tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no DID %s", number)
	}
	if err != nil {
		return nil, err
	}
	e, err := db.ExtensionByID(ctx, extID)
	if err != nil {
		return nil, err
	}
	return &DID{Number: number, TenantID: tenantID, Extension: e}, nil
}

// DIDNumbers is every provider number of every tenant, with its tenant.
func (db *DB) DIDNumbers(ctx context.Context) (map[string]int64, error) {
	return queryMap[string, int64](ctx, db.sql, `SELECT number, tenant_id FROM dids`)
}

// DIDs lists the provider numbers of one tenant (0: of all).
func (db *DB) DIDs(ctx context.Context, tenantID int64) ([]DID, error) {
	type row struct {
		number      string
		tenant, ext int64
	}
	// The rows are read to the end before the extensions are looked up,
	// so that one query at a time holds a connection.
	rs, err := queryAll(ctx, db.sql, func(sc scanner) (r row, err error) {
		err = sc.Scan(&r.number, &r.tenant, &r.ext)
		return r, err
	}, `SELECT number, tenant_id, extension_id FROM dids
		WHERE ? = 0 OR tenant_id = ? ORDER BY tenant_id, number`, tenantID, tenantID)
	if err != nil {
		return nil, err
	}
	out := make([]DID, 0, len(rs))
	for _, r := range rs {
		e, err := db.ExtensionByID(ctx, r.ext)
		if err != nil {
			return nil, err
		}
		out = append(out, DID{Number: r.number, TenantID: r.tenant, Extension: e})
	}
	return out, nil
}
