package main

import (
	"log/slog"

	"deskpbx/dialplan"
)

// emergencyNotifier is the on-site notification of emergency calls. For
// now a log line at the highest level; the dashboard banner and the
// e-mail to the tenant's notification address hang off the same hook.
func emergencyNotifier(log *slog.Logger) func(dialplan.EmergencyCall) {
	return func(e dialplan.EmergencyCall) {
		log.Error("EMERGENCY CALL placed", "tenant", e.Domain, "phone", e.Phone, "person", e.Person,
			"number", e.Number, "caller_id", e.CallerID, "trunk", e.Trunk)
	}
}
