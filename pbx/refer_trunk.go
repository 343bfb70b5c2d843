package pbx

import (
	"context"
	"errors"
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

// blindTransferOut carries out a blind transfer of rest whose route goes
// out through a trunk, once the REFER is accepted.
func (s *Server) blindTransferOut(c *call, from, rest *party, route Route, req *sip.Request) {
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
	// up with (on a trunk call that SDP names a relay already: only its
	// codecs matter), at the relay; the remaining party gets the
	// provider's answer as its new offer once it answers. No INVITE goes
	// out without SDP: providers refuse those.
	relay, err := media.NewRelay(s.ports, s.rtpIP)
	if err != nil {
		t.log.Warn("no RTP ports for a transfer out", "err", err)
		return nil, 503
	}
	offer, _, err := media.RewriteSDP(sdpFrom(t.rest), s.contactNetIP(), relay.Port(joinsSide))
	if err != nil {
		relay.Close()
		return nil, 488
	}
	b, code := t.ring(l, o, s.newTrunkInvite(l, o, identity, refer, offer))
	if b == nil {
		relay.Close()
		return nil, code
	}
	a := &mediaAnchor{relay}
	if err := a.settle(t.c, t.rest, t.join(b, a)); err != nil {
		t.log.Info("transfer out: the outside party could not be joined", "err", err)
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
					t.progress.report(fmt.Sprintf("%d %s", code, res.Reason)) // the provider's own words
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

// join acknowledges the provider's answer and re-INVITEs the remaining
// party with it, both through a. The remaining party answers from the
// codecs the provider chose, which were its own.
func (t *outsideTransfer) join(b *bLeg, a *mediaAnchor) error {
	s := t.s
	ctx, cancel := context.WithTimeout(s.ctx, 16*time.Second)
	defer cancel()
	if err := b.Ack(ctx); err != nil {
		return fmt.Errorf("ACK to the provider: %w", err)
	}
	toRest, err := a.pass(s, joinsSide, b.InviteResponse.Body())
	if err != nil {
		return fmt.Errorf("the provider's answer: %w", err)
	}
	r, err := sendReinvite(ctx, t.rest, toRest)
	if err != nil {
		return fmt.Errorf("re-INVITE of %s: %w", t.rest.person.AOR(), err)
	}
	if err := r.ack(nil); err != nil {
		return err
	}
	_, err = a.pass(s, staysSide, r.res.Body())
	return err
}

// swapRelay makes r the call's relay, with stays (the party a transfer
// keeps) on side and whoever takes the transferor's place on
// the other; the call's old relay, if any, closes.
func (c *call) swapRelay(r *media.Relay, stays *party, side int) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return errors.New("the call ended")
	}
	old := c.relay
	c.relay = &callRelay{Relay: r, aSide: 1 - side}
	if c.parties[0] == stays {
		c.relay.aSide = side
	}
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// sdpSeenBy is the transferor's SDP as x saw it: through c's relay when
// c has one (x is then pointed back at the relay, not at the phone).
func (c *call) sdpSeenBy(s *Server, from, x *party) []byte {
	body := sdpFrom(from)
	c.mu.Lock()
	r, xFirst := c.relay, c.parties[0] == x
	c.mu.Unlock()
	if r == nil {
		return body
	}
	side := r.aSide
	if !xFirst {
		side = 1 - side
	}
	if out, _, err := media.RewriteSDP(body, s.contactNetIP(), r.Port(side)); err == nil {
		return out
	}
	return body
}

// A transfer joins the party that stays (x, or rest) to the one that
// takes the transferor's place; when either is outside, their media meet
// in a relay of their own (a mediaAnchor), on these sides.
const (
	staysSide = phoneSide
	joinsSide = providerSide
)

// mediaAnchor is the relay a transfer joins two parties through; nil
// when both are phones (their SDP passes unchanged, media flows phone to
// phone).
type mediaAnchor struct{ *media.Relay }

// anchorFor leases a relay when either party a transfer joins is
// outside, else returns nil.
func (s *Server) anchorFor(stays, joins *party) (*mediaAnchor, error) {
	if !stays.outside() && (joins == nil || !joins.outside()) {
		return nil, nil
	}
	r, err := media.NewRelay(s.ports, s.rtpIP)
	if err != nil {
		return nil, fmt.Errorf("no RTP ports to join a trunk call: %w", err)
	}
	return &mediaAnchor{r}, nil
}

// pass rewrites body, written by the party on side, for the other party:
// it points at the relay, and the relay at body's author.
func (a *mediaAnchor) pass(s *Server, side int, body []byte) ([]byte, error) {
	if a == nil || len(body) == 0 {
		return body, nil
	}
	out, remote, err := media.RewriteSDP(body, s.contactNetIP(), a.Port(1-side))
	if err != nil {
		return nil, err
	}
	pointRelay(a.Relay, side, body, remote)
	return out, nil
}

// settle ends a join through a: on success its relay starts and becomes
// c's, with stays on staysSide; on failure it closes. It returns err, or
// why c could not take the relay.
func (a *mediaAnchor) settle(c *call, stays *party, err error) error {
	if a == nil {
		return err
	}
	if err == nil {
		a.Start()
		err = c.swapRelay(a.Relay, stays, staysSide)
	}
	if err != nil {
		a.Close()
	}
	return err
}

// connectTarget joins rest to the phone a blind transfer rang, which
// answered: through a relay of their own when rest is outside (a
// customer who came in on a trunk), so that neither learns the other's
// address. On failure leg is ACKed but not hung up.
func (s *Server) connectTarget(c *call, rest *party, leg *bLeg) error {
	a, err := s.anchorFor(rest, nil)
	if err != nil {
		leg.Ack(s.ctx)
		return err
	}
	return a.settle(c, rest, s.connectAnswered(rest, leg, a))
}
