package pbx

import (
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// routes registers one handler per SIP method; every request gets an
// answer, including the ones we do not implement.
func (s *Server) routes() {
	s.sip.OnRegister(s.vet(s.queueRegister))
	s.sip.OnInvite(s.vet(contactFromSource(s.onInvite)))
	s.sip.OnAck(s.counted(s.onAck)) // never answered, so never vetted
	s.sip.OnBye(s.vet(s.onBye))
	s.sip.OnCancel(s.vet(s.onCancel))
	s.sip.OnOptions(s.vet(s.onOptions))
	s.sip.OnInfo(s.vet(s.onInDialog))
	s.sip.OnUpdate(s.vet(s.onInDialog))
	s.sip.OnRefer(s.vet(s.onRefer))
	s.sip.OnPrack(s.vet(func(req *sip.Request, tx sip.ServerTransaction) {
		// We never send reliable provisionals, so no PRACK can be ours.
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
	}))
	s.sip.OnSubscribe(s.vet(s.onSubscribe))
	for _, m := range []sip.RequestMethod{sip.NOTIFY, sip.PUBLISH, sip.MESSAGE} {
		s.sip.OnRequest(m, s.vet(func(req *sip.Request, tx sip.ServerTransaction) {
			s.respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
		}))
	}
	s.sip.OnNoRoute(s.vet(func(req *sip.Request, tx sip.ServerTransaction) {
		s.respond(tx, req, 501, "Not Implemented", sip.NewHeader("Allow", allowedMethods))
	}))
}

// singleHeaders may appear once in a request (RFC 3261 §7.3.1: they are
// not lists); two copies mean a malformed or smuggled request.
var singleHeaders = [...]string{"To", "From", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// duplicateSingleHeader names a single header the request carries twice,
// in one pass over the headers (this runs on every request).
func duplicateSingleHeader(req *sip.Request) string {
	var seen [len(singleHeaders)]uint8
	for _, h := range req.Headers() {
		name := h.Name()
		if len(name) == 1 {
			// Compact forms (RFC 3261 §7.3.3) of the ones that have one.
			switch name[0] | 0x20 {
			case 't':
				name = "To"
			case 'f':
				name = "From"
			case 'i':
				name = "Call-ID"
			case 'l':
				name = "Content-Length"
			case 'c':
				name = "Content-Type"
			}
		}
		for i, single := range singleHeaders {
			if len(name) == len(single) && strings.EqualFold(name, single) {
				if seen[i]++; seen[i] > 1 {
					return single
				}
				break
			}
		}
	}
	return ""
}

// vet answers what sipgo parsed but RFC 3261 §8.2 says a UAS must refuse
// before looking further (see refusal).
func (s *Server) vet(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		tx = s.observed(req, tx)
		code, reason, extra := refusal(req)
		switch {
		case code == 505:
			res := sip.NewResponseFromRequest(req, 505, reason, nil)
			res.SipVersion = "SIP/2.0"
			tx.Respond(res)
		case code != 0 && extra != nil:
			s.respond(tx, req, code, reason, extra)
		case code != 0:
			s.respond(tx, req, code, reason)
		default:
			h(req, tx)
		}
	}
}

// refusal is the answer a request gets before anything else looks at it,
// or 0: a SIP version we do not speak, duplicated single headers, a CSeq
// for another method, a Request-URI scheme we cannot route, and
// extensions we do not support.
func refusal(req *sip.Request) (code int, reason string, extra sip.Header) {
	if req.SipVersion != "SIP/2.0" {
		return 505, "Version Not Supported", nil
	}
	if name := duplicateSingleHeader(req); name != "" {
		return 400, "Duplicate " + name, nil
	}
	if cseq := req.CSeq(); cseq != nil && !strings.EqualFold(string(cseq.MethodName), string(req.Method)) {
		return 400, "CSeq Method Mismatch", nil
	}
	if uriHasControl(&req.Recipient) {
		// A raw NUL or other control byte is no URI (RFC 3261 §25.1:
		// they must be %-escaped); a C peer downstream would read a
		// different address than the one we checked.
		return 400, "Bad Request-URI", nil
	}
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return 416, "Unsupported URI Scheme", nil
	}
	if h := req.GetHeader("Require"); h != nil && req.Method != sip.CANCEL {
		// We support no extensions (no 100rel: sipgo has no PRACK).
		return 420, "Bad Extension", sip.NewHeader("Unsupported", h.Value())
	}
	return 0, "", nil
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

func hasControl[T string | []byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] == 0x7f {
			return true
		}
	}
	return false
}

// contactFromSource lets an RFC 2543 INVITE without Contact through
// (RFC 4475 §3.4.1: accept it for backward compatibility): the Contact
// it lacks becomes its source address, where we send in-dialog requests
// to every phone anyway (NAT).
func contactFromSource(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.Contact() == nil && req.From() != nil {
			if ap, err := netip.ParseAddrPort(req.Source()); err == nil {
				req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: req.From().Address.User,
					Host: ap.Addr().Unmap().String(), Port: int(ap.Port())}})
			}
		}
		h(req, tx)
	}
}
