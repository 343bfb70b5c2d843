package pbx

import (
	"github.com/emiago/sipgo/sip"
)

// routes registers one handler per SIP method; every request gets an
// answer, including the ones we do not implement.
func (s *Server) routes() {
	s.sip.OnRegister(s.onRegister)
	s.sip.OnInvite(s.onInvite)
	s.sip.OnAck(s.onAck)
	s.sip.OnBye(s.onBye)
	s.sip.OnCancel(s.onCancel)
	s.sip.OnOptions(s.onOptions)
	s.sip.OnInfo(s.onInDialog)
	s.sip.OnUpdate(s.onInDialog)
	s.sip.OnRefer(func(req *sip.Request, tx sip.ServerTransaction) {
		s.respond(tx, req, 501, "Not Implemented")
	})
	s.sip.OnPrack(func(req *sip.Request, tx sip.ServerTransaction) {
		// We never send reliable provisionals, so no PRACK can be ours.
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	})
	for _, m := range []sip.RequestMethod{sip.SUBSCRIBE, sip.NOTIFY, sip.PUBLISH, sip.MESSAGE} {
		s.sip.OnRequest(m, func(req *sip.Request, tx sip.ServerTransaction) {
			s.respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
		})
	}
	s.sip.OnNoRoute(func(req *sip.Request, tx sip.ServerTransaction) {
		s.respond(tx, req, 501, "Not Implemented", sip.NewHeader("Allow", allowedMethods))
	})
}

// onOptions answers keep-alives and capability queries (and healthcheck).
func (s *Server) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		if c, _ := s.calls.match(req); c == nil {
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
	}
	s.respond(tx, req, 200, "OK",
		sip.NewHeader("Allow", allowedMethods),
		sip.NewHeader("Accept", "application/sdp"),
		sip.NewHeader("Supported", ""))
}

// onCancel sees only CANCELs that match no pending INVITE: the
// transaction layer answers the others itself.
func (s *Server) onCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
}

// onInDialog handles INFO and UPDATE: only meaningful inside a call.
func (s *Server) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to == nil || !to.Params.Has("tag") {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.relayInDialog(req, tx)
}
