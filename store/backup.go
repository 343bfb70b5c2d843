package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Backup copies the database file src into a new file dst with SQLite's
// online backup API while the server keeps running. It copies every page
// in one step, so inside one read transaction: the copy is the database
// as of one commit, and in WAL mode that reader does not hold up writers.
// src is opened as it is, never migrated: a backup must not change what
// it copies, even when this binary is newer than the running server.
func Backup(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		return Errorf(ECONFLICT, "backup: %s exists already", dst)
	}
	srcDB, err := openRaw(src, "rw", 5*time.Second)
	if err != nil {
		return err
	}
	defer srcDB.Close()
	dstDB, err := openRaw(dst, "rwc", 5*time.Second)
	if err != nil {
		return err
	}
	defer dstDB.Close()

	err = withSQLiteConn(ctx, dstDB, func(dc *sqlite3.SQLiteConn) error {
		return withSQLiteConn(ctx, srcDB, func(sc *sqlite3.SQLiteConn) error {
			return copyPages(ctx, dc, sc)
		})
	})
	if err != nil {
		return fmt.Errorf("backup %s: %w", src, err)
	}
	return checkIntegrity(ctx, dstDB, dst)
}

// copyPages runs the backup to completion. Step reports a busy or locked
// source as "not done": that is retried, within ctx and a minute.
func copyPages(ctx context.Context, dst, src *sqlite3.SQLiteConn) error {
	bk, err := dst.Backup("main", src, "main")
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		done, err := bk.Step(-1)
		if err != nil {
			bk.Close()
			return err
		}
		if done {
			return bk.Finish()
		}
		if time.Now().After(deadline) {
			bk.Close()
			return errors.New("the database stayed locked for a minute")
		}
		select {
		case <-ctx.Done():
			bk.Close()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Verify checks that path is a sound deskpbx database: SQLite's integrity
// check passes and it has the table of applied migrations.
func Verify(ctx context.Context, path string) error {
	db, err := openRaw(path, "ro", 5*time.Second)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := checkIntegrity(ctx, db, path); err != nil {
		return err
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM migrations`).Scan(&n); err != nil || n == 0 {
		return Errorf(EINVALID, "%s is not a deskpbx database (no migrations recorded)", path)
	}
	return nil
}

// CheckNotInUse returns an error if another connection, in this process
// or another, has the database at path open. Leaving WAL mode needs the
// only connection to the file, so trying it (without waiting) tells; on
// success the file is left whole, its WAL checkpointed and removed.
func CheckNotInUse(ctx context.Context, path string) error {
	db, err := openRaw(path, "rw", 0)
	if err != nil {
		return err
	}
	defer db.Close()
	var mode string
	err = db.QueryRowContext(ctx, `PRAGMA journal_mode=DELETE`).Scan(&mode)
	if err == nil && mode == "delete" {
		return nil
	}
	var se sqlite3.Error
	if err == nil || (errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)) {
		return Errorf(ECONFLICT, "%s is in use: stop the server first (systemctl stop deskpbx)", path)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// openRaw opens one connection to path without migrating it. mode is
// SQLite's URI mode: ro, rw (must exist) or rwc.
func openRaw(path, mode string, busy time.Duration) (*sql.DB, error) {
	dsn := fmt.Sprintf("file:%s?mode=%s&_busy_timeout=%d", path, mode, busy.Milliseconds())
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

func withSQLiteConn(ctx context.Context, db *sql.DB, f func(*sqlite3.SQLiteConn) error) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("not a go-sqlite3 connection: %T", dc)
		}
		return f(c)
	})
}

func checkIntegrity(ctx context.Context, db *sql.DB, path string) error {
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("%s: integrity check: %w", path, err)
	}
	if res != "ok" {
		return Errorf(EINVALID, "%s fails SQLite's integrity check: %s", path, res)
	}
	return nil
}
