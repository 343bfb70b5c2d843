package pbx

import "deskpbx/store"

// Handover is a transfer or a pickup (a call handed to another party),
// for the audit log. pbx reports
// it through the hook cmd installs (Config.Handovers) and writes
// nothing itself.
type Handover struct {
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

func (s *Server) handover(e Handover) {
	if s.cfg.Handovers != nil {
		s.cfg.Handovers(s.ctx, e)
	}
}
