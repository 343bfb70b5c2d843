package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// writeWait is how long a writer waits for the write gate, as the
// _busy_timeout SQLite would otherwise wait.
const writeWait = 5 * time.Second

// The write gate lets one writer at a time into SQLite, queueing the
// others in Go. SQLite queues them itself otherwise, in its busy handler,
// which sleeps 1, 2, 5, 10 ms... inside the cgo call: the goroutine's P
// stays taken until sysmon notices, up to 10 ms, and with one P per core
// the media pacers wait that long (a trace of 2,100 *44 calls caught a
// call-log insert holding a P for 11 ms, 8.4 ms of it asleep). Waiting on
// a channel, a writer gives its P back at once. Every transaction is a
// writer here (_txlock=immediate takes the write lock at BEGIN), and so
// is an Exec outside one; plain queries pass, as WAL lets them.

// acquire takes the write gate, or fails as SQLITE_BUSY would have.
func (db *DB) acquire(ctx context.Context) error {
	select {
	case db.gate <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(writeWait)
	defer t.Stop()
	select {
	case db.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return Errorf(EINTERNAL, "database busy: another write took over %v", writeWait)
	}
}

func (db *DB) release() { <-db.gate }

// writeTx is a transaction holding the write gate until it commits or
// rolls back.
type writeTx struct {
	*sql.Tx
	db   *DB
	once sync.Once
}

func (t *writeTx) Commit() error {
	defer t.once.Do(t.db.release)
	return t.Tx.Commit()
}

func (t *writeTx) Rollback() error {
	defer t.once.Do(t.db.release)
	return t.Tx.Rollback()
}

// begin starts a transaction through the write gate.
func (db *DB) begin(ctx context.Context) (*writeTx, error) {
	if err := db.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		db.release()
		return nil, err
	}
	return &writeTx{Tx: tx, db: db}, nil
}

// exec runs one write outside a transaction through the write gate.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := db.acquire(ctx); err != nil {
		return nil, err
	}
	defer db.release()
	return db.sql.ExecContext(ctx, query, args...)
}
