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

// bindingOp is a pending write: an upsert, or a delete when del is set.
type bindingOp struct {
	b   Binding
	del bool
}

// BindingWriter persists bindings off the request path: one goroutine
// commits queued changes in batches (up to maxBatch rows or every
// interval), because a commit per REGISTER costs more than the whole
// rest of handling it.
type BindingWriter struct {
	db       *DB
	ops      chan bindingOp
	flush    chan chan error
	done     chan struct{}
	closeOne sync.Once
	log      *slog.Logger
}

const (
	bindingBatchMax      = 1000
	bindingBatchInterval = 10 * time.Millisecond
)

// NewBindingWriter starts the writer goroutine; Close stops it after
// writing everything queued.
func (db *DB) NewBindingWriter(log *slog.Logger) *BindingWriter {
	w := &BindingWriter{
		db:    db,
		ops:   make(chan bindingOp, 8192),
		flush: make(chan chan error),
		done:  make(chan struct{}),
		log:   log,
	}
	go w.run()
	return w
}

// Put queues an insert-or-update of b.
func (w *BindingWriter) Put(b Binding) { w.ops <- bindingOp{b: b} }

// Delete queues the removal of one binding.
func (w *BindingWriter) Delete(extensionID int64, contact string) {
	w.ops <- bindingOp{b: Binding{ExtensionID: extensionID, Contact: contact}, del: true}
}

// Flush waits until everything queued before it is committed.
func (w *BindingWriter) Flush() error {
	ch := make(chan error, 1)
	select {
	case w.flush <- ch:
		return <-ch
	case <-w.done:
		return nil
	}
}

// Close writes what is queued and stops the writer.
func (w *BindingWriter) Close() error {
	err := w.Flush()
	w.closeOne.Do(func() { close(w.ops) })
	<-w.done
	return err
}

func (w *BindingWriter) run() {
	defer close(w.done)
	batch := make([]bindingOp, 0, bindingBatchMax)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	commit := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := w.db.writeBindings(context.Background(), batch)
		if err != nil && w.log != nil {
			w.log.Error("writing bindings failed", "rows", len(batch), "err", err)
		}
		batch = batch[:0]
		return err
	}
	for {
		select {
		case op, ok := <-w.ops:
			if !ok {
				commit()
				return
			}
			if len(batch) == 0 {
				timer.Reset(bindingBatchInterval)
			}
			batch = append(batch, op)
			if len(batch) >= bindingBatchMax {
				timer.Stop()
				commit()
			}
		case <-timer.C:
			commit()
		case ch := <-w.flush:
			// Drain what was queued before the flush request.
			for drained := false; !drained; {
				select {
				case op := <-w.ops:
					batch = append(batch, op)
				default:
					drained = true
				}
			}
			timer.Stop()
			ch <- commit()
		}
	}
}

func (db *DB) writeBindings(ctx context.Context, ops []bindingOp) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	up, err := tx.PrepareContext(ctx, `INSERT INTO bindings (extension_id, contact, source, transport, call_id, cseq, user_agent, expires_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM extensions WHERE id = ?)
		ON CONFLICT (extension_id, contact) DO UPDATE SET source = excluded.source, transport = excluded.transport,
			call_id = excluded.call_id, cseq = excluded.cseq, user_agent = excluded.user_agent,
			expires_at = excluded.expires_at, updated_at = excluded.updated_at`)
	if err != nil {
		return err
	}
	defer up.Close()
	del, err := tx.PrepareContext(ctx, `DELETE FROM bindings WHERE extension_id = ? AND contact = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	for _, op := range ops {
		b := op.b
		if op.del {
			_, err = del.ExecContext(ctx, b.ExtensionID, b.Contact)
		} else {
			// The EXISTS guard drops a binding whose extension was deleted
			// meanwhile instead of failing the whole batch on the foreign key.
			_, err = up.ExecContext(ctx, b.ExtensionID, b.Contact, b.Source, b.Transport, b.CallID, b.CSeq, b.UserAgent,
				b.Expires.UnixMilli(), b.Updated.UnixMilli(), b.ExtensionID)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// DeleteExpiredBindings removes bindings that expired before now.
func (db *DB) DeleteExpiredBindings(ctx context.Context) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM bindings WHERE expires_at <= ?`, db.now())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
