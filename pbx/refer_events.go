package pbx

import "deskpbx/store"

// CallEvent is a transfer or a pickup, for the audit log. pbx reports
// it through the hook cmd installs (Config.CallEvents) and writes
// nothing itself.
type CallEvent struct {
	Kind   string           // "transfer-blind", "transfer-attended" or "pickup"
	By     *store.Extension // the person who transferred or picked up
	Phone  *store.Extension // the phone they did it from
	Party  string           // AOR of the party transferred, or the caller picked up
	To     string           // AOR transferred to, or whose ringing call was picked up
	OK     bool
	Status string // why it failed, e.g. "486" for a busy target
	CallID string // the Call-ID of the call it happened in
	Source string // host:port of the phone's request
}

func (s *Server) callEvent(e CallEvent) {
	if s.cfg.CallEvents != nil {
		s.cfg.CallEvents(s.ctx, e)
	}
}
