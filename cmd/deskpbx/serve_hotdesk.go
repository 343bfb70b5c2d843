package main

import (
	"log/slog"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
)

// wireDialPlan gives srv the office's dial plan, hot desking included.
// The hot-desk service it returns is the one the admin page must share;
// the caller runs its auto-logout once metrics and events are wired.
func wireDialPlan(db *store.DB, srv *pbx.Server, log *slog.Logger) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	srv.SetDialPlan(dialplan.New(db, hd))
	return hd
}
