package store

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Binding is one registered contact of an extension (RFC 3261 §10).
type Binding struct {
	ExtensionID int64
	Contact     string // the Contact URI as the phone sent it
	Source      string // host:port the REGISTER came from: where requests go
	Transport   string // "udp", "tcp", ...
	CallID      string
	CSeq        uint32
	UserAgent   string
	Expires     time.Time
	Updated     time.Time
}

// LoadBindings returns every binding that has not expired at now.
func (db *DB) LoadBindings(ctx context.Context) ([]Binding, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT extension_id, contact, source, transport, call_id, cseq, user_agent, expires_at, updated_at
		FROM bindings WHERE expires_at > ?`, db.now())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var b Binding
		var exp, upd int64
		if err := rows.Scan(&b.ExtensionID, &b.Contact, &b.Source, &b.Transport, &b.CallID, &b.CSeq, &b.UserAgent, &exp, &upd); err != nil {
			return nil, err
		}
		b.Expires, b.Updated = time.UnixMilli(exp), time.UnixMilli(upd)
		out = append(out, b)
	}
	return out, rows.Err()
}

// BindingChange is one binding to write: an insert-or-update, or its
// removal when Delete is set (only ExtensionID and Contact count then).
type BindingChange struct {
	Binding
	Delete bool
}

// bindingCommit is one caller's changes and who to tell once they are
// committed.
type bindingCommit struct {
	changes []BindingChange
	done    func(error)
}

// BindingWriter persists bindings by group commit: callers queue their
// changes, one goroutine takes everything queued (up to bindingBatchMax
// rows), commits it in one transaction and only then tells each caller,
// so a REGISTER is answered once its binding is on disk, at the cost of
// one commit per batch rather than per REGISTER (a commit costs more
// than the whole rest of handling one). Under load a batch is what
// queued during the previous commit; idle, a change commits at once.
type BindingWriter struct {
	db         *DB
	commits    chan bindingCommit
	done       chan struct{}
	closeOne   sync.Once
	log        *slog.Logger
	afterBatch func()
}

const (
	bindingBatchMax = 1000
	// A batch smaller than bindingBatchFull waits up to bindingLinger
	// for more when the previous commit ended less than bindingBusy ago.
	bindingBatchFull = 64
	bindingLinger    = time.Millisecond
	bindingNap       = 250 * time.Microsecond
	bindingBusy      = 5 * time.Millisecond
)

// NewBindingWriter starts the writer goroutine; Close stops it after
// writing everything queued. afterBatch, when not nil, runs on the
// writer's goroutine once the done functions of a batch have all been
// called: what they queued can leave together (the registrar sends a
// batch's 200 OKs in one system call) rather than one at a time.
func (db *DB) NewBindingWriter(log *slog.Logger, afterBatch func()) *BindingWriter {
	w := &BindingWriter{
		db:         db,
		commits:    make(chan bindingCommit, 8192),
		done:       make(chan struct{}),
		log:        log,
		afterBatch: afterBatch,
	}
	go w.run()
	return w
}

// Commit queues changes and calls done with the outcome once they are
// committed, or failed to be. done runs on the writer's goroutine and
// must not block.
func (w *BindingWriter) Commit(changes []BindingChange, done func(error)) {
	w.commits <- bindingCommit{changes: changes, done: done}
}

// Put queues an insert-or-update of b without waiting for it.
func (w *BindingWriter) Put(b Binding) { w.Commit([]BindingChange{{Binding: b}}, nil) }

// Delete queues the removal of one binding without waiting for it.
func (w *BindingWriter) Delete(extensionID int64, contact string) {
	w.Commit([]BindingChange{{Binding: Binding{ExtensionID: extensionID, Contact: contact}, Delete: true}}, nil)
}

// Flush waits until everything queued before it is committed.
func (w *BindingWriter) Flush() error {
	ch := make(chan error, 1)
	select {
	case w.commits <- bindingCommit{done: func(err error) { ch <- err }}:
		return <-ch
	case <-w.done:
		return nil
	}
}

// Close writes what is queued and stops the writer.
func (w *BindingWriter) Close() error {
	err := w.Flush()
	w.closeOne.Do(func() { close(w.commits) })
	<-w.done
	return err
}

func (w *BindingWriter) run() {
	defer close(w.done)
	var conn *bindingConn
	defer func() { conn.close() }()
	var batch []bindingCommit
	var lastCommit time.Time
	for c := range w.commits {
		batch = append(batch[:0], c)
		rows := len(c.changes)
		// Everything already waiting joins this commit. Under load (the
		// last commit just ended), a small batch also waits up to
		// bindingLinger for company: measured under a registration
		// storm, batches were a few rows and BEGIN and COMMIT cost more
		// than the rows. Idle, a change still commits at once. It waits
		// in naps, taking what queued meanwhile, rather than being woken
		// by every change (a goroutine wake-up per REGISTER).
		var deadline time.Time
	more:
		for rows < bindingBatchMax {
			select {
			case c, ok := <-w.commits:
				if !ok {
					break more
				}
				batch = append(batch, c)
				rows += len(c.changes)
				continue
			default:
			}
			if rows >= bindingBatchFull {
				break
			}
			now := time.Now()
			if deadline.IsZero() {
				if now.Sub(lastCommit) >= bindingBusy {
					break
				}
				deadline = now.Add(bindingLinger)
			}
			if !now.Before(deadline) {
				break
			}
			time.Sleep(min(bindingNap, deadline.Sub(now)))
		}
		var err error
		if rows > 0 {
			if conn == nil {
				// Opened lazily so that a failure is reported to the
				// callers like any failed commit, and retried next batch.
				conn, err = w.db.openBindingConn(context.Background())
			}
			if err == nil {
				err = conn.write(w.db, batch)
			}
			if err != nil {
				// A fresh connection next batch: this one may be what failed.
				conn.close()
				conn = nil
				if w.log != nil {
					w.log.Error("writing bindings failed", "rows", rows, "err", err)
				}
			}
			lastCommit = time.Now()
		}
		for _, c := range batch {
			if c.done != nil {
				c.done(err)
			}
		}
		if w.afterBatch != nil {
			w.afterBatch()
		}
		clear(batch)
	}
}

// DeleteExpiredBindings removes bindings that expired before now.
func (db *DB) DeleteExpiredBindings(ctx context.Context) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM bindings WHERE expires_at <= ?`, db.now())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
