package main

import (
	"context"
	"log/slog"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/webhook"
)

// startWebhooks delivers the tenants' webhook events until ctx ends, and
// turns the PBX's missed calls and hot-desk sessions into events; call it
// before srv.Start and hd's auto-logout. Other sources (voicemail,
// emergency calls) emit through the returned service. stop ends delivery
// and waits for it, so the database outlives it.
func startWebhooks(ctx context.Context, db *store.DB, srv *pbx.Server, hd *hotdesk.Service, log *slog.Logger) (wh *webhook.Service, stop func()) {
	wh = webhook.New(db, log)
	srv.OnCallEnded(func(e pbx.CallEnd) {
		if e.Missed() {
			emit(ctx, wh, e.Callee.TenantID, webhook.CallMissed, webhook.MissedCall{CallID: e.CallID,
				Caller: webhook.PartyOf(e.Identity), Callee: webhook.PartyOf(e.Callee), Reason: e.Outcome}, log)
		}
	})
	hd.OnSession(func(e hotdesk.SessionEvent) { emitSession(ctx, wh, e, log) })
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); wh.Run(runCtx) }()
	return wh, func() { cancel(); <-done }
}

// emit records an event for the tenant's webhooks. It runs on the
// goroutine of whatever happened (a call's), so it is bounded; and it
// still records events of calls that end as the server shuts down.
func emit(ctx context.Context, wh *webhook.Service, tenantID int64, event string, data any, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := wh.Emit(ctx, tenantID, event, data); err != nil {
		log.Error("recording a webhook event", "event", event, "err", err)
	}
}

// emitSession tells the person's tenant, and the phone's when that is
// another, of a hot-desk login or logout.
func emitSession(ctx context.Context, wh *webhook.Service, e hotdesk.SessionEvent, log *slog.Logger) {
	event, data := webhook.HotdeskLogout, webhook.HotdeskChange{Person: webhook.PartyOfAOR(e.Person), Seat: webhook.PartyOfAOR(e.Seat), Reason: e.Reason}
	if e.Login {
		event = webhook.HotdeskLogin
		if e.MovedFrom != "" {
			p := webhook.PartyOfAOR(e.MovedFrom)
			data.MovedFrom = &p
		}
		if e.Replaced != "" {
			p := webhook.PartyOfAOR(e.Replaced)
			data.Replaced = &p
		}
	}
	emit(ctx, wh, e.PersonTenantID, event, data, log)
	if e.SeatTenantID != e.PersonTenantID {
		emit(ctx, wh, e.SeatTenantID, event, data, log)
	}
}
