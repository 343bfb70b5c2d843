package main

import (
	"log/slog"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// wireDialPlan gives srv the office's dial plan, hot desking and
// voicemail included. The hot-desk service it returns is the one the
// admin page must share; the caller runs its auto-logout once metrics and
// events are wired.
func wireDialPlan(db *store.DB, srv *pbx.Server, vm *voicemail.Service, log *slog.Logger) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	srv.SetDialPlan(dialplan.New(db, hd).WithVoicemail(vm))
	return hd
}
