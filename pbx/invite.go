package pbx

import (
	"log/slog"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// onInvite handles every INVITE: re-INVITEs within a call are relayed;
// a new call is admitted, authenticated, routed by the dial plan, and the
// route carried out.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.relayInDialog(req, tx)
		return
	}
	if s.fromTrunk(req, tx) {
		return
	}
	if !s.admitInvite(req, tx) {
		return
	}
	caller := s.authenticate(s.ctx, req, tx, req.From().Address.Host)
	if caller == nil {
		return
	}
	route := s.dialPlan.Route(s.ctx, &CallRequest{Caller: caller, Dialled: req.Recipient.User, Source: req.Source()})
	nc := newCall{req: req, tx: tx, caller: caller, identity: route.Identity, started: s.db.Now(),
		log: s.log.With("call_id", req.CallID().Value(), "caller", caller.AOR(), "as", route.Identity.AOR(), "dialled", req.Recipient.User)}
	switch {
	case route.Reject != nil:
		s.reject(nc, route.Reject)
	case route.Feature != nil:
		s.answerFeature(nc, route.Feature)
	case route.Pickup != nil:
		s.pickup(nc, route.Pickup)
	case route.Outside != nil:
		s.callOutside(nc, route.Outside)
	default:
		s.ringCallee(nc, route.Ring)
	}
}

// newCall is an INVITE for a new call, authenticated and routed.
type newCall struct {
	req      *sip.Request
	tx       sip.ServerTransaction
	caller   *store.Extension // the phone that authenticated the INVITE
	identity *store.Extension // who the call is made as
	started  time.Time        // when the INVITE came in
	log      *slog.Logger
	// direction is DirectionIn or DirectionOut for a call from or to a
	// trunk (CallEnd.Direction).
	direction string
}

// admitInvite refuses what no call can start from: a draining server, a
// loop, a request without From or Contact.
func (s *Server) admitInvite(req *sip.Request, tx sip.ServerTransaction) bool {
	if s.draining.Load() {
		s.respond(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return false
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.respond(tx, req, 483, "Too Many Hops")
		return false
	}
	if req.From() == nil || req.Contact() == nil {
		s.respond(tx, req, 400, "Missing From or Contact")
		return false
	}
	return true
}

// reject answers a call the dial plan sends nowhere.
func (s *Server) reject(nc newCall, r *Rejection) {
	if r.Err != nil {
		nc.log.Error("dial plan failed", "reason", r.Reason, "err", r.Err)
	} else {
		nc.log.Info("call refused", "code", r.Code, "reason", r.Reason)
	}
	s.respond(nc.tx, nc.req, r.Code, reasonPhrase(r.Code))
	s.callEnded(nc, nil, nil, ringOutcome(false, r.Code))
}

// ringCallee is a call to a person: fork to the phones of the ring
// target, bridge the first to answer, else tell the caller why not (or
// answer with a feature of our own, when the route says so).
func (s *Server) ringCallee(nc newCall, r *Ring) {
	outcome := OutcomeFailed
	var c *call
	defer func() { s.callEnded(nc, c, r.Callee, outcome) }()
	if len(nc.req.Body()) == 0 {
		// No late offers: the B2BUA ACKs the callee without an answer,
		// so a call without SDP in the INVITE would have no audio.
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `399 deskpbx "SDP offer required in INVITE"`))
		return
	}
	bindings := s.location.Lookup(r.Target.ID)
	if len(bindings) == 0 && r.NoAnswer == nil {
		nc.log.Info("callee not registered", "callee", r.Callee.AOR())
		s.respond(nc.tx, nc.req, 480, "Temporarily Unavailable")
		outcome = OutcomeNoAnswer
		return
	}
	nc.log = nc.log.With("callee", r.Callee.AOR())
	c, end, ok := s.openRingingCall(nc, r.Callee)
	if !ok {
		return
	}
	defer end()
	c.seat = r.Target

	b, final := c.ring(s, bindings, r.Timeout)
	outcome = ringOutcome(b != nil, final)
	switch {
	case b != nil:
		c.bridge(s, b)
	case c.pickedUp():
		c.bridgePickup(s)
	case final != 0 && r.NoAnswer != nil && !c.over() && !s.draining.Load():
		c.log.Info("call not answered: answering it ourselves", "code", final, "feature", r.NoAnswer.Name)
		c.runOwnMedia(s, r.NoAnswer)
	default:
		c.notAnswered(final)
	}
}

// answerFeature is a call the PBX answers itself with its own media.
func (s *Server) answerFeature(nc newCall, f *FeatureRoute) {
	var c *call
	defer func() { s.callEnded(nc, c, nil, c.featureOutcome()) }()
	c, ok := s.openCall(nc, nil)
	if !ok {
		return
	}
	defer c.close(s)
	c.runOwnMedia(s, f)
}
