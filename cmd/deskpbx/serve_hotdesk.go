package main

import (
	"context"
	"log/slog"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
)

// wireDialPlan gives srv the office's dial plan, hot desking included,
// and runs auto-logout until ctx ends. The hot-desk service it returns is
// the one the admin page must share.
func wireDialPlan(ctx context.Context, db *store.DB, srv *pbx.Server, log *slog.Logger, mail mailFlags) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	plan := dialplan.New(db, hd)
	plan.OnEmergency(emergencyNotifier(log, db, mail))
	srv.SetDialPlan(plan)
	go hd.RunAutoLogout(ctx)
	return hd
}
