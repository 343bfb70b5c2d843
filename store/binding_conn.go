package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// The writer's statements. A binding whose extension was deleted
// meanwhile fails the upsert on the foreign key, and is dropped (see
// rows). An EXISTS guard in the statement did the same for every row:
// it made a refresh a third dearer.
const (
	bindingUpsertSQL = `INSERT INTO bindings (extension_id, contact, source, transport, call_id, cseq, user_agent, expires_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (extension_id, contact) DO UPDATE SET source = excluded.source, transport = excluded.transport,
			call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`
	bindingDeleteSQL = `DELETE FROM bindings WHERE extension_id = ? AND contact = ?`
)

// bindingConn is the binding writer's own connection, held for the
// writer's life, with its two statements prepared on it once (preparing
// them per batch cost as much as the rest of the commit). A batch runs on
// the driver's connection and statements directly: through database/sql,
// each row paid for the pool's locking, argument conversion and a result
// nobody reads, and go-sqlite3's Exec crosses into C once per argument.
// Its Query path resets, binds and steps in one crossing, and a statement
// without RETURNING is done after that first step, so rows go through it.
type bindingConn struct {
	conn    *sql.Conn
	up, del *sqlite3.SQLiteStmt
	args    [9]driver.NamedValue // reused by every row
}

func (db *DB) openBindingConn(ctx context.Context) (*bindingConn, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, err
	}
	bc := &bindingConn{conn: conn}
	for i := range bc.args {
		bc.args[i].Ordinal = i + 1
	}
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("not a go-sqlite3 connection: %T", dc)
		}
		up, err := prepareSQLite(ctx, c, bindingUpsertSQL)
		if err != nil {
			return err
		}
		bc.up = up
		bc.del, err = prepareSQLite(ctx, c, bindingDeleteSQL)
		return err
	})
	if err != nil {
		bc.close()
		return nil, err
	}
	return bc, nil
}

func prepareSQLite(ctx context.Context, c *sqlite3.SQLiteConn, query string) (*sqlite3.SQLiteStmt, error) {
	s, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.(*sqlite3.SQLiteStmt), nil
}

// close finalizes the statements and gives the connection back.
func (bc *bindingConn) close() {
	if bc == nil {
		return
	}
	bc.conn.Raw(func(any) error { bc.closeStmts(); return nil })
	bc.conn.Close()
}

func (bc *bindingConn) closeStmts() {
	for _, s := range []*sqlite3.SQLiteStmt{bc.up, bc.del} {
		if s != nil {
			s.Close()
		}
	}
	bc.up, bc.del = nil, nil
}

// write commits batch in one transaction, through the write gate like
// every other writer. On failure the caller drops bc: a connection whose
// rollback failed too is closed rather than left in a transaction.
func (bc *bindingConn) write(db *DB, batch []bindingCommit) error {
	// No deadline nor cancellation: with one, go-sqlite3 watches each
	// statement from another goroutine.
	ctx := context.Background()
	if err := db.acquire(ctx); err != nil {
		return err
	}
	defer db.release()
	return bc.conn.Raw(func(dc any) error {
		tx, err := dc.(*sqlite3.SQLiteConn).BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		if err = bc.rows(ctx, batch); err != nil {
			if rerr := tx.Rollback(); rerr != nil {
				bc.closeStmts()
				return errors.Join(err, rerr, driver.ErrBadConn)
			}
			return err
		}
		return tx.Commit()
	})
}

func (bc *bindingConn) rows(ctx context.Context, batch []bindingCommit) error {
	a := bc.args[:]
	defer func() {
		for i := range a {
			a[i].Value = nil // no row's strings kept alive until the next batch
		}
	}()
	for _, c := range batch {
		for i := range c.changes {
			ch := &c.changes[i]
			b := &ch.Binding
			var s *sqlite3.SQLiteStmt
			var n int
			if ch.Delete {
				s, n = bc.del, 2
				a[0].Value, a[1].Value = b.ExtensionID, b.Contact
			} else {
				s, n = bc.up, 9
				a[0].Value, a[1].Value, a[2].Value, a[3].Value, a[4].Value = b.ExtensionID, b.Contact, b.Source, b.Transport, b.CallID
				a[5].Value, a[6].Value, a[7].Value, a[8].Value = int64(b.CSeq), b.UserAgent, b.Expires.UnixMilli(), b.Updated.UnixMilli()
			}
			r, err := s.QueryContext(ctx, a[:n])
			if isForeignKeyViolation(err) {
				// Checked before the row is written, and only that
				// statement fails: the transaction and the batch's other
				// rows go on.
				continue
			}
			if err != nil {
				return err
			}
			if err := r.Close(); err != nil {
				return err
			}
		}
	}
	return nil
}

func isForeignKeyViolation(err error) bool {
	if err == nil {
		return false // before errors.As, whose target would escape for every row
	}
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey
}
