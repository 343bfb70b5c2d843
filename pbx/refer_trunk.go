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
	// up with, at the relay; the remaining party gets the provider's
	// answer as its new offer once it answers, so nobody needs an offer
	// in advance and no INVITE goes out without SDP (providers refuse
	// those).
	// Only its codecs matter: on a trunk call it names a relay already.
	// Where the remaining party receives comes from its re-INVITE answer.
	relay, err := media.NewRelay(s.ports, s.rtpIP)
	if err != nil {
		t.log.Warn("no RTP ports for a transfer out", "err", err)
		return nil, 503
	}
	offer, _, err := media.RewriteSDP(sdpFrom(t.rest), s.contactNetIP(), relay.Port(providerSide))
	if err != nil {
		relay.Close()
		return nil, 488
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
	return c.swapRelay(relay, t.rest, phoneSide)
}

// swapRelay makes r the call's relay, with stays (the party a transfer
// keeps) on side staysSide and whoever takes the transferor's place on
// the other; the call's old relay, if any, closes.
func (c *call) swapRelay(r *media.Relay, stays *party, staysSide int) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return errors.New("the call ended")
	}
	old := c.relay
	c.relay = &callRelay{Relay: r, aSide: 1 - staysSide}
	if c.parties[0] == stays {
		c.relay.aSide = staysSide
	}
	c.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// joinRelayed is join (refer_media.go) for an attended transfer where x
// or y is the outside party of a trunk call: their media meet in a new
// relay, which becomes c's (the call both end up in), so neither learns
// the other's address. y's call keeps its own relay until it ends.
func (s *Server) joinRelayed(c *call, x, y *party, fallback []byte) (err error) {
	const xSide, ySide = 0, 1
	relay, err := media.NewRelay(s.ports, s.rtpIP)
	if err != nil {
		return fmt.Errorf("no RTP ports for the joined call: %w", err)
	}
	defer func() {
		if err != nil {
			relay.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(s.ctx, 16*time.Second)
	defer cancel()
	rx, err := sendReinvite(ctx, x, nil)
	if err != nil {
		return fmt.Errorf("asking %s for an offer: %w", x.person.AOR(), err)
	}
	offer, remote, err := media.RewriteSDP(rx.res.Body(), s.contactNetIP(), relay.Port(ySide))
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("%s's offer: %w", x.person.AOR(), err)
	}
	pointRelay(relay, xSide, rx.res.Body(), remote)
	ry, err := sendReinvite(ctx, y, offer)
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("offering to %s: %w", y.person.AOR(), err)
	}
	if err := ry.ack(nil); err != nil {
		return err
	}
	answer, remote, err := media.RewriteSDP(ry.res.Body(), s.contactNetIP(), relay.Port(xSide))
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("%s's answer: %w", y.person.AOR(), err)
	}
	pointRelay(relay, ySide, ry.res.Body(), remote)
	if err := rx.ack(answer); err != nil {
		return err
	}
	relay.Start()
	return c.swapRelay(relay, x, xSide)
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
