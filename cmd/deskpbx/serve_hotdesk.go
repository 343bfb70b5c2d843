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
// voicemail included, with onEmergency told of every emergency call. The
// hot-desk service it returns is the one the admin page must share; the
// caller runs its auto-logout once metrics and events are wired.
func wireDialPlan(db *store.DB, srv *pbx.Server, vm *voicemail.Service, log *slog.Logger, onEmergency func(dialplan.EmergencyCall)) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	plan := dialplan.New(db, hd).WithVoicemail(vm)
	plan.OnEmergency(onEmergency)
	srv.SetDialPlan(plan)
	return hd
}
