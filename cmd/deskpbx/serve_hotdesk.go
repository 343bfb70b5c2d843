package main

import (
	"context"
	"log/slog"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// wireDialPlan gives srv the office's dial plan, hot desking and
// voicemail included, and runs auto-logout until ctx ends. The hot-desk
// service it returns is the one the admin page must share.
func wireDialPlan(ctx context.Context, db *store.DB, srv *pbx.Server, vm *voicemail.Service, log *slog.Logger) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	srv.SetDialPlan(dialplan.New(db, hd).WithVoicemail(vm))
	go hd.RunAutoLogout(ctx)
	return hd
}
