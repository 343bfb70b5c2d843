package pbx

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// Blind transfer to an outside number: deskpbx calls the number through
// the trunk the transferor's own outside call would take (same route,
// same caller ID, same permission), and joins the remaining party to the
// answer. The media of the joined call is anchored in a relay of its
// own, as on every trunk call: the provider must not learn a phone's LAN
// address, nor the remaining party the provider's.

// blindTransferOut carries out a blind transfer whose route goes out
// through a trunk; the REFER has passed onRefer's checks.
func (s *Server) blindTransferOut(c *call, from *party, route Route, req *sip.Request, tx sip.ServerTransaction) {
	if !c.startTransfer(from) {
		s.respond(tx, req, 491, "Request Pending")
		return
	}
	rest := c.other(from)
	if rest == nil { // hung up since onRefer looked
		c.endTransfer()
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.respond(tx, req, 202, "Accepted")
	o := route.Outside
	callee := &store.Extension{TenantID: o.Trunk.TenantID, Number: o.Number, Domain: trunkDomain(o.Trunk)}
	log := c.log.With("transfer", "blind", "by", from.person.AOR(), "to", callee.AOR(), "trunk", o.Trunk.Name)
	log.Info("blind transfer to an outside number")
	progress := s.newReferNotifier(c, from)
	progress.report("100 Trying")
	ev := Handover{Kind: "transfer-blind", By: from.person, Phone: from.phone, Party: rest.person.AOR(),
		To: callee.AOR(), CallID: c.a.InviteRequest.CallID().Value(), Source: req.Source()}
	out := &outsideTransfer{s: s, c: c, rest: rest, log: log, progress: progress}
	to, code := out.dial(route.Identity, o, req)
	if to == nil {
		s.failTransfer(c, progress, code, ev)
		return
	}
	to.person = callee
	s.completeTransfer(c, from, to, progress, ev)
}

// outsideTransfer is the call a blind transfer places through a trunk
// for rest, the party that stays.
type outsideTransfer struct {
	s        *Server
	c        *call
	rest     *party
	log      *slog.Logger
	progress *referNotifier
}

// dial calls o's number as identity and, once it answers, re-INVITEs
// the remaining party to it through a new relay, which then becomes the
// call's. It returns the outside party, or nil and the status to report
// to the transferor; on failure the call is as it was.
func (t *outsideTransfer) dial(identity *store.Extension, o *OutsideRoute, refer *sip.Request) (*party, int) {
	s := t.s
	l := s.trunks.get(o.Trunk.ID)
	if l == nil || (l.failing() && !o.Emergency) {
		t.log.Warn("transfer out refused: trunk failing")
		return nil, 503
	}
	// The provider is offered the codecs the remaining party set the call
	// up with, at the relay; the remaining party gets the provider's
	// answer as its new offer once it answers, so nobody needs an offer
	// in advance and no INVITE goes out without SDP (providers refuse
	// those).
	relay, offer, ok := s.newRelay(sdpFrom(t.rest), phoneSide)
	if !ok {
		return nil, 503
	}
	b, code := t.ring(l, o, s.newTrunkInvite(l, o, identity, refer, offer))
	if b == nil {
		relay.Close()
		return nil, code
	}
	if err := t.join(b, relay); err != nil {
		t.log.Info("transfer out: the outside party could not be joined", "err", err)
		relay.Close()
		byeCtx(context.Background(), b.Bye)
		return nil, 488
	}
	return &party{leg: b}, 0
}

// ring sends the INVITE and reports the provider's progress to the
// transferor; nil and the status to report when nobody answered.
func (t *outsideTransfer) ring(l *trunkLine, o *OutsideRoute, invite *sip.Request) (*bLeg, int) {
	s := t.s
	var reported sync.Map // each provisional status is reported once
	b, final, noAnswer := s.dialTrunk(l, trunkDial{log: t.log, invite: invite, gaveUp: t.rest.done(), over: t.c.done,
		progress: func(res *sip.Response) error {
			if code := res.StatusCode; code == 180 || code == 183 {
				if _, seen := reported.LoadOrStore(code, true); !seen {
					t.progress.report(fmt.Sprintf("%d %s", code, provisionalPhrase(code)))
				}
			}
			return nil
		}})
	switch {
	case b != nil:
		return b, 0
	case noAnswer:
		s.saveTrunkState(l, store.TrunkFailing, "no answer to INVITE from "+l.trunk.HostPort())
		t.log.Warn("transfer out: no answer from the provider")
		return nil, 503
	}
	return nil, orStatus(final, 487)
}

func provisionalPhrase(code int) string {
	if code == 183 {
		return "Session Progress"
	}
	return "Ringing"
}

// join acknowledges the provider's answer and re-INVITEs the remaining
// party with it, both pointed at relay; then relay replaces the call's
// own (if it had one: a call from or to a trunk). The remaining party
// answers from the codecs the provider chose, which were its own.
func (t *outsideTransfer) join(b *bLeg, relay *media.Relay) error {
	s, c := t.s, t.c
	ctx, cancel := context.WithTimeout(s.ctx, 16*time.Second)
	defer cancel()
	if err := b.Ack(ctx); err != nil {
		return fmt.Errorf("ACK to the provider: %w", err)
	}
	answer := b.InviteResponse.Body()
	toRest, remote, err := media.RewriteSDP(answer, s.contactNetIP(), relay.Port(phoneSide))
	if err != nil {
		return fmt.Errorf("the provider's answer: %w", err)
	}
	pointRelay(relay, providerSide, answer, remote)
	r, err := sendReinvite(ctx, t.rest, toRest)
	if err != nil {
		return fmt.Errorf("re-INVITE of %s: %w", t.rest.person.AOR(), err)
	}
	if err := r.ack(nil); err != nil {
		return err
	}
	if _, remote, err := media.RewriteSDP(r.res.Body(), s.contactNetIP(), relay.Port(providerSide)); err == nil {
		pointRelay(relay, phoneSide, r.res.Body(), remote)
	}
	relay.Start()
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return fmt.Errorf("the call ended")
	}
	old := c.relay
	// The outside party takes the transferor's place: the first party's
	// side is the remaining party's, or the provider's.
	c.relay = &callRelay{Relay: relay, aSide: providerSide}
	if c.parties[0] == t.rest {
		c.relay.aSide = phoneSide
	}
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}
