// Package store keeps deskpbx's state in one SQLite file: schema, embedded
// migrations and every query the rest of the binary needs.
package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DB is the deskpbx database.
type DB struct {
	sql  *sql.DB
	path string
	gate chan struct{} // the write gate (writegate.go)

	// Now is the clock every timestamp comes from, so tests can move time.
	Now func() time.Time
}

// Open opens (creating if needed) and migrates the database at path.
func Open(path string) (*DB, error) {
	if path == "" {
		return nil, Errorf(EINVALID, "database path is empty")
	}
	if path != ":memory:" {
		if err := createPrivate(path); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "NORMAL")
	// Writers take the lock at BEGIN: two deferred transactions that both
	// read then write would otherwise deadlock into SQLITE_BUSY.
	q.Set("_txlock", "immediate")
	// Every REGISTER, INVITE and login runs the same few queries;
	// re-preparing them was a quarter of a hot-desk login.
	q.Set("_stmt_cache_size", "64")
	sqlDB, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db := newDB(sqlDB, path)
	if err := sqlDB.Ping(); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := db.migrate(context.Background()); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return db, nil
}

func newDB(sqlDB *sql.DB, path string) *DB {
	return &DB{sql: sqlDB, path: path, Now: time.Now, gate: make(chan struct{}, 1)}
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Path is the file the database lives in.
func (db *DB) Path() string { return db.path }

func (db *DB) now() int64 { return db.Now().UnixMilli() }

// migrate runs every embedded migration not yet recorded, each in its own
// transaction, in the order of the number that starts its file name.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.exec(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return migrationNumber(names[i]) < migrationNumber(names[j]) })
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func migrationNumber(name string) int {
	base := name[strings.LastIndexByte(name, '/')+1:]
	n, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	return n
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
			return err
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, db.now())
		return err
	})
}

// DataVersion changes whenever another connection or process commits to
// the file, so a running server can notice CLI changes cheaply.
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var v int64
	err = conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	return v, err
}
