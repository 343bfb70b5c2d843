package store

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// fixture writes, with the SQL of its own schema version, the rows an
// installation of that version holds, and later checks them through
// today's API.
type fixture struct {
	insert func(ctx context.Context, tx *sql.Tx) error
	check  func(t *testing.T, ctx context.Context, db *DB)
}

const fixturePassword = "long-secret-1001"

// fixtures, by the number of the migration whose schema they need. A new
// migration that adds tables should add its entry here.
var fixtures = map[int]fixture{
	1: {
		insert: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx,
				q(`INSERT INTO tenants (id, domain, is_default, company_pin, created_at) VALUES (1, 'acme.example', 1, ?, 1700000000000)`, HashPIN("4826")),
				q(`INSERT INTO tenants (id, domain, is_default, created_at) VALUES (2, 'beta.example', 0, 1700000000000)`),
				q(`INSERT INTO extensions (id, tenant_id, number, ha1_md5, ha1_sha256, pin_hash, display_name, created_at) VALUES (10, 1, '1001', ?, ?, ?, 'Ada', 1700000000000)`, HA1MD5("1001", "acme.example", fixturePassword), HA1SHA256("1001", "acme.example", fixturePassword), HashPIN("2468")),
				q(`INSERT INTO extensions (id, tenant_id, number, ha1_md5, ha1_sha256, display_name, created_at) VALUES (11, 1, '1002', ?, ?, 'Grace', 1700000000000)`, HA1MD5("1002", "acme.example", "long-secret-1002"), HA1SHA256("1002", "acme.example", "long-secret-1002")),
				q(`INSERT INTO bindings (extension_id, contact, source, transport, call_id, cseq, user_agent, expires_at, updated_at) VALUES (10, 'sip:1001@192.0.2.7:5062', '192.0.2.7:5062', 'udp', 'c1', 3, 'Yealink', 4102444800000, 1700000000000)`),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			e, err := db.LookupExtension(ctx, "acme.example", "1001")
			if err != nil {
				t.Fatalf("extension 1001: %v", err)
			}
			if e.HA1MD5 != HA1MD5("1001", "acme.example", fixturePassword) || e.DisplayName != "Ada" || !CheckPIN(e.PINHash, "2468") {
				t.Errorf("extension 1001 changed: %+v", e)
			}
			def, err := db.DefaultTenant(ctx)
			if err != nil || def.Domain != "acme.example" || !def.HasCompanyPIN {
				t.Errorf("default tenant: %+v, %v", def, err)
			}
			if ts, _ := db.Tenants(ctx); len(ts) != 2 {
				t.Errorf("tenants: %d, want 2", len(ts))
			}
			bs, err := db.LoadBindings(ctx)
			if err != nil || len(bs) != 1 || bs[0].Contact != "sip:1001@192.0.2.7:5062" || bs[0].UserAgent != "Yealink" {
				t.Errorf("bindings: %+v, %v", bs, err)
			}
		},
	},
	2: {
		insert: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx,
				q(`UPDATE tenants SET autologout_at = '18:30', hotdesk_logout = 0 WHERE id = 1`),
				q(`INSERT INTO hotdesk_entries (extension_id, hotdesk_id, pin_hash, description, created_at) VALUES (10, '700100', ?, 'Ada, sales', 1700000000000)`, HashPIN("9753")),
				q(`INSERT INTO hotdesk_sessions (person_id, device_id, since, how, source) VALUES (10, 11, 1700000001000, '*072', '192.0.2.8:5060')`),
				q(`INSERT INTO hotdesk_audit (at, tenant_id, seat_tenant_id, actor, action, person, seat, outcome) VALUES (1700000001000, 1, 1, '1002@acme.example', 'login', '1001@acme.example', '1002@acme.example', 'ok')`),
				q(`INSERT INTO hotdesk_locks (kind, key, until) VALUES ('id', '700999', 4102444800000)`),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			e, err := db.HotdeskEntryByID(ctx, "700100")
			if err != nil || e.Person.Number != "1001" || e.Description != "Ada, sales" || !CheckPIN(e.PINHash, "9753") {
				t.Errorf("hot-desk entry 700100: %+v, %v", e, err)
			}
			ss, err := db.HotdeskSessions(ctx, 0)
			if err != nil || len(ss) != 1 || ss[0].Person != "1001@acme.example" || ss[0].Device != "1002@acme.example" {
				t.Errorf("hot-desk sessions: %+v, %v", ss, err)
			}
			audit, err := db.HotdeskAudit(ctx, 0, 10)
			if err != nil || len(audit) != 1 || audit[0].Action != "login" {
				t.Errorf("hot-desk audit: %+v, %v", audit, err)
			}
			tn, err := db.TenantByDomain(ctx, "acme.example")
			if err != nil || tn.AutologoutAt != "18:30" || tn.HotdeskLogout || !tn.HotdeskLogin {
				t.Errorf("tenant hot-desk settings: %+v, %v", tn, err)
			}
		},
	},
	3: {
		insert: func(ctx context.Context, tx *sql.Tx) error {
			hash, err := bcrypt.GenerateFromPassword([]byte("admin-secret-1"), bcrypt.MinCost)
			if err != nil {
				return err
			}
			return execAll(ctx, tx,
				q(`INSERT INTO admins (id, username, password_hash, tenant_id, created_at) VALUES (1, 'root', ?, NULL, 1700000000000)`, string(hash)),
				q(`INSERT INTO admins (id, username, password_hash, tenant_id, created_at) VALUES (2, 'alice', ?, 1, 1700000000000)`, string(hash)),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			a, err := db.AuthenticateAdmin(ctx, "alice", "admin-secret-1")
			if err != nil || a.TenantID != 1 {
				t.Errorf("admin alice after the upgrade: %+v, %v", a, err)
			}
			if n, err := db.AdminCount(ctx); err != nil || n != 2 {
				t.Errorf("admins: %d, %v; want 2", n, err)
			}
		},
	},
	7: {
		insert: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx,
				q(`INSERT INTO voicemail_settings (extension_id, enabled, no_answer_secs, email, greeting_file) VALUES (10, 1, 12, 'ada@acme.example', 'vm-g.wav')`),
				q(`INSERT INTO voicemail_messages (extension_id, caller_number, caller_name, at, duration_ms, folder, file) VALUES (10, '1002', 'Grace', 1700000002000, 4500, 'new', 'vm-m.wav')`),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			m, err := db.Mailbox(ctx, 10)
			if err != nil || m.NoAnswer != 12*time.Second || m.Email != "ada@acme.example" || m.GreetingFile != "vm-g.wav" {
				t.Errorf("mailbox of 1001: %+v, %v", m, err)
			}
			msgs, err := db.VoicemailMessages(ctx, 10)
			if err != nil || len(msgs) != 1 || msgs[0].CallerNumber != "1002" || msgs[0].Duration != 4500*time.Millisecond {
				t.Errorf("voicemail of 1001: %+v, %v", msgs, err)
			}
		},
	},
}

type statement struct {
	sql  string
	args []any
}

func q(sql string, args ...any) statement { return statement{sql, args} }

func execAll(ctx context.Context, tx *sql.Tx, stmts ...statement) error {
	for _, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
			return fmt.Errorf("%s: %w", st.sql, err)
		}
	}
	return nil
}

func migrationNames(t *testing.T) []string {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(names, func(i, j int) bool { return migrationNumber(names[i]) < migrationNumber(names[j]) })
	return names
}

// A database made by any earlier release (schema version N: migrations
// 1..N applied, rows of that schema in it) opens with today's binary,
// which migrates it to the latest version and keeps every row.
func TestMigrationsForwardFromEveryEarlierVersion(t *testing.T) {
	names := migrationNames(t)
	if len(names) < 2 {
		t.Skip("one migration: no earlier version")
	}
	for n := 1; n < len(names); n++ {
		t.Run(fmt.Sprintf("from_%s", filepath.Base(names[n-1])), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "old.db")
			old := openAtVersion(t, path, names[:n])
			old.Close()

			db, err := Open(path)
			if err != nil {
				t.Fatalf("upgrading a version-%d database: %v", n, err)
			}
			defer db.Close()
			var applied int
			if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM migrations`).Scan(&applied); err != nil || applied != len(names) {
				t.Fatalf("%d migrations recorded after the upgrade (%v), want %d", applied, err, len(names))
			}
			for _, name := range names[:n] {
				if f, ok := fixtures[migrationNumber(name)]; ok {
					f.check(t, ctx, db)
				}
			}
			var fk []string
			rows, err := db.sql.QueryContext(ctx, `PRAGMA foreign_key_check`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var table string
				var rowid, parent, fkid any
				rows.Scan(&table, &rowid, &parent, &fkid)
				fk = append(fk, table)
			}
			rows.Close()
			if len(fk) > 0 {
				t.Errorf("foreign keys broken after the upgrade in %v", fk)
			}
		})
	}
}

// openAtVersion makes a database with only the given migrations applied,
// each followed by its fixture's rows (written with the SQL of that
// version, which a later migration may have changed),
// the way the release that had just those left it.
func openAtVersion(t *testing.T, path string, names []string) *DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	db := newDB(raw, path)
	ctx := context.Background()
	if _, err := raw.ExecContext(ctx, `CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f, ok := fixtures[migrationNumber(name)]; ok {
			tx, err := raw.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.insert(ctx, tx); err != nil {
				t.Fatalf("rows of %s: %v", name, err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}
