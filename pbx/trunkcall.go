package pbx

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// Calls to and from a trunk anchor their RTP here (media.Relay): the
// phones sit on a private LAN, the provider on the internet.

// Relay sides: side 0 faces the office's phone, side 1 the provider.
const (
	phoneSide    = 0
	providerSide = 1
)

// callRelay is a call's media relay and which side its first party
// (the caller, or whoever a transfer put in the caller's place) is on.
type callRelay struct {
	*media.Relay
	aSide int
}

// outside says whether p is the outside party of a trunk call (no phone
// of ours): it may not transfer the call, or the outside world could
// dial through the office.
func (p *party) outside() bool { return p.phone == nil || p.phone.ID == 0 }

// relaySDP rewrites an SDP body that crosses a relayed call (a re-INVITE
// or its answer), so neither party learns the other's address; fromA
// says whether the first party wrote it. Calls without a relay pass it
// unchanged.
func (c *call) relaySDP(s *Server, fromA bool, body []byte) []byte {
	c.mu.Lock()
	r := c.relay // a transfer out through a trunk may put one in
	c.mu.Unlock()
	if r == nil || len(body) == 0 {
		return body
	}
	side := r.aSide
	if !fromA {
		side = 1 - side
	}
	out, remote, err := media.RewriteSDP(body, s.contactNetIP(), r.Port(1-side))
	if err != nil {
		return body
	}
	if !remote.Addr().IsUnspecified() {
		pointRelay(r.Relay, side, body, remote)
	}
	return out
}

// pointRelay tells the relay where the party on side receives RTP (and
// RTCP), from the SDP body it wrote.
func pointRelay(r *media.Relay, side int, body []byte, remote netip.AddrPort) {
	r.SetPeer(side, remote)
	if rtcp, ok := media.ExplicitRTCP(body, remote); ok {
		r.SetRTCPPeer(side, rtcp)
	}
}

func (s *Server) contactNetIP() netip.Addr {
	ip, err := netip.ParseAddr(s.contactIP)
	if err != nil {
		return netip.IPv4Unspecified()
	}
	return ip
}

// newRelay leases a relay and rewrites offer (written by the party on
// side offerSide) to point at the other side's socket.
func (s *Server) newRelay(offer []byte, offerSide int) (*media.Relay, []byte, bool) {
	r, err := media.NewRelay(s.ports, s.rtpIP)
	if err != nil {
		s.log.Warn("no RTP ports for a relayed call", "err", err)
		return nil, nil, false
	}
	out, remote, err := media.RewriteSDP(offer, s.contactNetIP(), r.Port(1-offerSide))
	if err != nil {
		r.Close()
		return nil, nil, false
	}
	pointRelay(r, offerSide, offer, remote)
	return r, out, true
}

// acceptAnswer points the relay at the answerer (on side answerSide) and
// rewrites its SDP answer for the other party, then starts forwarding.
func (s *Server) acceptAnswer(r *media.Relay, res *sip.Response, answerSide int) {
	out, remote, err := media.RewriteSDP(res.Body(), s.contactNetIP(), r.Port(1-answerSide))
	if err == nil {
		pointRelay(r, answerSide, res.Body(), remote)
		res.SetBody(out)
	}
	r.Start()
}

// fromTrunk handles an INVITE before any digest challenge: a provider's
// call is carried in, and an INVITE to one of our provider numbers that
// comes from no trunk is refused outright (toll fraud starts here). It
// says whether the INVITE was handled.
func (s *Server) fromTrunk(req *sip.Request, tx sip.ServerTransaction) bool {
	l := s.trunks.match(req)
	if l == nil {
		if s.claimsToBeProvider(req) {
			s.log.Warn("INVITE to a provider number from no trunk's address: refused", "source", req.Source(),
				"dialled", req.Recipient.User, "call_id", req.CallID().Value())
			s.respond(tx, req, 403, "Forbidden")
			return true
		}
		return false
	}
	if !s.admitInvite(req, tx) {
		return true
	}
	in := &InboundCall{Trunk: l.trunk, RequestUser: req.Recipient.User, CallerNumber: req.From().Address.User,
		CallerName: req.From().DisplayName, Source: req.Source()}
	if to := req.To(); to != nil {
		in.ToUser = to.Address.User
	}
	log := s.log.With("call_id", req.CallID().Value(), "tenant", l.trunk.Domain, "trunk", l.trunk.Name, "caller", in.CallerNumber)
	plan, ok := s.dialPlan.(InboundPlan)
	if !ok {
		s.respond(tx, req, 404, "Not Found")
		return true
	}
	route := plan.RouteInbound(s.ctx, in)
	nc := newCall{req: req, tx: tx, caller: route.Identity, identity: route.Identity, started: s.db.Now(), log: log, direction: DirectionIn}
	switch {
	case route.Reject != nil:
		s.reject(nc, route.Reject)
	case route.Ring != nil:
		nc.log = log.With("dialled", route.Ring.Callee.AOR())
		s.ringFromTrunk(nc, route.Ring)
	case route.Feature != nil:
		s.answerFeature(nc, route.Feature)
	default:
		s.respond(tx, req, 404, "Not Found")
	}
	return true
}

// claimsToBeProvider is an INVITE to one of our DIDs from a domain that
// is none of our tenants': what a provider sends, and what a toll-fraud
// scanner sends pretending to be one. A phone's INVITE carries its
// tenant's domain (or an address standing for the default tenant).
func (s *Server) claimsToBeProvider(req *sip.Request) bool {
	if req.From() == nil || !s.trunks.isDID(req.Recipient.User) {
		return false
	}
	_, err := s.db.ResolveTenant(s.ctx, req.From().Address.Host)
	return store.ErrorCode(err) == store.ENOTFOUND
}

// ringFromTrunk rings a person for a provider's call, with media relayed;
// it is counted, logged and shown on lamps as a call to that person is.
func (s *Server) ringFromTrunk(nc newCall, r *Ring) {
	outcome := OutcomeFailed
	var c *call
	defer func() { s.callEnded(nc, c, r.Callee, outcome) }()
	providerOffer := nc.req.Body()
	if len(providerOffer) == 0 {
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here")
		return
	}
	bindings := s.location.Lookup(r.Target.ID)
	if len(bindings) == 0 && r.NoAnswer == nil {
		nc.log.Info("callee not registered")
		s.respond(nc.tx, nc.req, 480, "Temporarily Unavailable")
		outcome = OutcomeNoAnswer
		return
	}
	relay, offer, ok := s.newRelay(providerOffer, providerSide)
	if !ok {
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here")
		return
	}
	defer relay.Close()
	var end func()
	if c, end, ok = s.openRingingCall(nc, r.Callee); !ok {
		return
	}
	defer end()
	c.seat = r.Target
	c.relay = &callRelay{Relay: relay, aSide: providerSide}
	// The phones are offered the relay, not the provider, and a phone's
	// early media goes through it too.
	c.a.InviteRequest.SetBody(offer)
	c.a.earlySDP = func(body []byte) []byte {
		out := c.relaySDP(s, false, body)
		relay.Start()
		return out
	}
	b, final := c.ring(s, bindings, r.Timeout)
	outcome = ringOutcome(b != nil, final)
	switch {
	case b != nil:
		s.acceptAnswer(relay, b.InviteResponse, phoneSide)
		c.bridge(s, b)
	case c.pickedUp():
		c.bridgePickup(s)
	case final != 0 && r.NoAnswer != nil && !c.over() && !s.draining.Load():
		// Our own media answers the provider directly.
		c.relay = nil
		c.a.InviteRequest.SetBody(providerOffer)
		c.log.Info("call not answered: answering it ourselves", "code", final, "feature", r.NoAnswer.Name)
		c.runOwnMedia(s, r.NoAnswer)
	default:
		c.notAnswered(final)
	}
}

// callOutside sends a call out through a trunk, with media relayed; it
// is counted and logged as a call to the outside number.
func (s *Server) callOutside(nc newCall, o *OutsideRoute) {
	nc.log = nc.log.With("trunk", o.Trunk.Name, "outside", o.Number, "emergency", o.Emergency)
	nc.direction = DirectionOut
	callee := &store.Extension{TenantID: o.Trunk.TenantID, Number: o.Number, Domain: trunkDomain(o.Trunk)}
	outcome := OutcomeFailed
	var c *call
	defer func() { s.callEnded(nc, c, callee, outcome) }()
	l := s.trunks.get(o.Trunk.ID)
	if len(nc.req.Body()) == 0 {
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `399 deskpbx "SDP offer required in INVITE"`))
		return
	}
	if l == nil || (l.failing() && !o.Emergency) {
		reason := "trunk not loaded yet"
		if l != nil {
			reason = l.status().Reason
		}
		nc.log.Warn("outside call refused: trunk failing", "reason", reason)
		s.outsideUnavailable(nc, callee, o)
		return
	}
	relay, offer, ok := s.newRelay(nc.req.Body(), phoneSide)
	if !ok {
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here")
		return
	}
	defer relay.Close()
	var end func()
	if c, end, ok = s.openRingingCall(nc, callee); !ok {
		return
	}
	defer end()
	c.relay = &callRelay{Relay: relay, aSide: phoneSide}

	b, final, noAnswer := c.dialTrunk(s, l, o, offer)
	if !noAnswer {
		outcome = ringOutcome(b != nil, final)
	}
	switch {
	case b != nil:
		s.acceptAnswer(relay, b.InviteResponse, providerSide)
		c.bridge(s, b)
	case noAnswer:
		s.saveTrunkState(l, store.TrunkFailing, "no answer to INVITE from "+l.trunk.HostPort())
		c.log.Warn("outside call: no answer from the provider")
		if o.Unavailable != nil && !c.over() {
			c.relay = nil
			c.runOwnMedia(s, o.Unavailable)
			return
		}
		c.notAnswered(503)
	default:
		c.notAnswered(final)
	}
}

// outsideUnavailable tells the caller the outside line is down: a spoken
// message when the dial plan gave one, else 503.
func (s *Server) outsideUnavailable(nc newCall, callee *store.Extension, o *OutsideRoute) {
	if o.Unavailable == nil {
		s.respond(nc.tx, nc.req, 503, "Service Unavailable")
		return
	}
	c, ok := s.openCall(nc, callee)
	if !ok {
		return
	}
	defer c.close(s)
	c.runOwnMedia(s, o.Unavailable)
}

// dialTrunk sends the call's INVITE to the provider, its early media
// through the call's relay and its progress to the caller.
func (c *call) dialTrunk(s *Server, l *trunkLine, o *OutsideRoute, offer []byte) (b *bLeg, final int, noAnswer bool) {
	return s.dialTrunk(l, trunkDial{log: c.log, invite: s.newTrunkInvite(l, o, c.identity, c.a.InviteRequest, offer),
		gaveUp: c.a.Context().Done(), over: c.done,
		progress: func(res *sip.Response) error {
			if res.StatusCode == 183 && len(res.Body()) > 0 {
				// Early media (ringback, announcements) through the relay.
				s.acceptAnswer(c.relay.Relay, res, providerSide)
			}
			return c.a.progress(res)
		}})
}

// trunkDial is one INVITE to a provider and who waits for it: a caller
// dialling out, or the party a transfer sends out.
type trunkDial struct {
	log      *slog.Logger
	invite   *sip.Request
	gaveUp   <-chan struct{} // whoever waits left: CANCEL
	over     <-chan struct{} // the PBX ended the call
	progress func(*sip.Response) error
}

// dialTrunk sends the INVITE to the provider, answers its digest
// challenge, passes progress on and waits for the answer. noAnswer means
// the provider said nothing at all within trunkRequestTimeout; final is
// 0 when whoever waited gave up.
func (s *Server) dialTrunk(l *trunkLine, d trunkDial) (b *bLeg, final int, noAnswer bool) {
	ctx, cancel := context.WithCancelCause(s.ctx)
	defer cancel(nil)
	ringCtx, stopRing := context.WithTimeout(ctx, s.cfg.RingTimeout)
	defer stopRing()
	go func() {
		select {
		case <-d.gaveUp:
			cancel(nil)
		case <-d.over:
			cancel(nil)
		case <-ringCtx.Done():
		}
	}()
	s.sendFromListener(store.Binding{Source: l.trunk.HostPort(), Transport: l.trunk.Transport})
	dialog, err := s.dua.WriteInvite(ringCtx, d.invite)
	if err != nil {
		d.log.Warn("INVITE to provider failed", "err", err)
		return nil, 503, false
	}
	var heard atomic.Bool
	silence := time.AfterFunc(trunkRequestTimeout, func() {
		if !heard.Load() {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	})
	defer silence.Stop()
	err = dialog.WaitAnswer(ringCtx, sipgo.AnswerOptions{
		Username: l.trunk.Username, Password: l.trunk.Password.Reveal(),
		OnResponse: func(res *sip.Response) error {
			if !heard.Swap(true) && !l.trunk.Register {
				s.saveTrunkState(l, store.TrunkReachable, "")
			}
			return d.progress(res)
		},
	})
	if err == nil {
		return &bLeg{dialog}, 0, false
	}
	dialog.Close()
	switch {
	case !heard.Load() && !closed(d.gaveUp):
		return nil, 0, true
	case closed(d.gaveUp):
		return nil, 0, false // the caller cancelled: 487 sent already
	}
	code := legStatus(err)
	if code == 401 || code == 407 {
		code = 503 // our credentials were refused: not the caller's fault
		s.saveTrunkState(l, store.TrunkFailing, "provider refused our credentials for INVITE")
	}
	return nil, code, false
}

// newTrunkInvite is the INVITE to the provider: the outside number at
// the provider's host, and the caller ID the dial plan chose in From and
// P-Asserted-Identity, with identity's name. cause is the request that
// asked for the call (the caller's INVITE, a transferor's REFER), for
// Max-Forwards.
func (s *Server) newTrunkInvite(l *trunkLine, o *OutsideRoute, identity *store.Extension, cause *sip.Request, offer []byte) *sip.Request {
	k := l.trunk
	dest := k.HostPort()
	host, port := splitHostPort(dest)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: o.Number, Host: host, Port: port})
	domain := trunkDomain(k)
	id := sip.Uri{Scheme: "sip", User: o.CallerID, Host: domain}
	from := &sip.FromHeader{DisplayName: sanitizeDisplayName(identity.DisplayName), Address: id, Params: sip.NewParams()}
	if o.Emergency {
		from.DisplayName = ""
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: o.Number, Host: domain}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<"+id.String()+">"))
	if mf := cause.MaxForwards(); mf != nil {
		v := sip.MaxForwardsHeader(max(mf.Val()-1, 0))
		req.AppendHeader(&v)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	req.SetDestination(dest)
	req.SetTransport(strings.ToUpper(k.Transport))
	return req
}

// sanitizeDisplayName keeps a stored display name from breaking the
// quoted header it goes into.
func sanitizeDisplayName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return -1
		}
		return r
	}, s)
}
