package main

import (
	"context"
	"log/slog"
	"time"

	"deskpbx/pbx"
	"deskpbx/store"
)

// callLogRetention is how long ended calls stay in the call log; the
// dashboard shows one day of it.
const callLogRetention = 90 * 24 * time.Hour

// callLogQueue bounds the calls waiting to be written. An insert costs
// about 40 µs (go test -bench RecordCall ./store), but may wait up to the
// busy timeout behind another writer: the queue takes that wait off the
// calls' goroutines, and is deep enough for every call of a busy office
// ending in the same few seconds.
const callLogQueue = 1024

// startCallLog records every call that ends in the call log, and sweeps
// calls older than the retention once an hour. Call it before srv.Start;
// stop writes what is queued and returns, so call it after the server has
// shut down and before the database closes.
func startCallLog(db *store.DB, srv *pbx.Server, log *slog.Logger) (stop func()) {
	queue := make(chan store.CallRecord, callLogQueue)
	srv.OnCallEnded(func(e pbx.CallEnd) {
		select {
		case queue <- callRecord(e):
		default:
			log.Warn("call log queue full: call not logged", "call_id", e.CallID)
		}
	})
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		sweep := time.NewTicker(time.Hour)
		defer sweep.Stop()
		sweepCallLog(db, log)
		for {
			select {
			case r := <-queue:
				writeCall(db, r, log)
			case <-sweep.C:
				sweepCallLog(db, log)
			case <-quit:
				// The queue is never closed: a call ending after stop
				// then finds it full rather than closed.
				for {
					select {
					case r := <-queue:
						writeCall(db, r, log)
					default:
						return
					}
				}
			}
		}
	}()
	return func() { close(quit); <-done }
}

// callRecord is the call log's row for e: in the callee's tenant, else
// the caller's.
func callRecord(e pbx.CallEnd) store.CallRecord {
	as := e.Identity
	if as == nil {
		as = e.Caller
	}
	r := store.CallRecord{CallID: e.CallID, Started: e.Started, Answered: e.Answered, Ended: e.Ended, Outcome: e.Outcome, Direction: e.Direction}
	if as != nil {
		r.Caller, r.CallerTenantID, r.TenantID = as.AOR(), as.TenantID, as.TenantID
	}
	if e.Callee != nil {
		r.Callee, r.TenantID = e.Callee.AOR(), e.Callee.TenantID
	}
	if r.Started.IsZero() {
		r.Started = e.Ended
	}
	return r
}

func writeCall(db *store.DB, r store.CallRecord, log *slog.Logger) {
	if r.TenantID == 0 {
		return // an unauthenticated call never reaches the hook; nothing to file it under
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.RecordCall(ctx, r); err != nil {
		log.Error("writing the call log", "call_id", r.CallID, "err", err)
	}
}

func sweepCallLog(db *store.DB, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	n, err := db.SweepCallLog(ctx, db.Now().Add(-callLogRetention))
	if err != nil {
		log.Error("sweeping the call log", "err", err)
	} else if n > 0 {
		log.Info("call log swept", "calls", n, "older_than", callLogRetention)
	}
}
