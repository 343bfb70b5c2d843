package pbx

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
)

// attendedTransfer joins the two parties the transferor talks to: the
// one in the call the REFER came in (x) and the one in the call its
// Replaces names (y). deskpbx owns both calls, so it re-INVITEs them to
// each other itself; no phone needs INVITE with Replaces.
func (s *Server) attendedTransfer(c *call, from *party, replaces [2]string, req *sip.Request, tx sip.ServerTransaction) {
	d, dFrom := s.calls.byDialogID(replaces[0])
	if d == nil {
		d, dFrom = s.calls.byDialogID(replaces[1])
	}
	// Only the transferor's own other call can be named: a Call-ID and
	// tags are not a secret, and must not let one phone take another's
	// call.
	if d == nil || d == c || !d.isParty(dFrom) || dFrom.phone.ID != from.phone.ID {
		c.log.Info("attended transfer refused: Replaces names no call of the transferor's")
		s.respond(tx, req, 481, "Replaced Call Does Not Exist")
		return
	}
	x, y := c.other(from), d.other(dFrom)
	// y nil: the target still rings (a "semi-attended" transfer); it is
	// joined when it answers.
	targetRings := y == nil && d.callee != nil && dFrom.leg == partyLeg(d.a) && !d.over()
	if x == nil || d.ownMedia() != nil || y == nil && !targetRings {
		s.respond(tx, req, 403, "No Call To Transfer")
		return
	}
	if !c.startTransfer(from) {
		s.respond(tx, req, 491, "Request Pending")
		return
	}
	if !d.startTransfer(dFrom) {
		c.endTransfer()
		s.respond(tx, req, 491, "Request Pending")
		return
	}
	s.respond(tx, req, 202, "Accepted")
	log := c.log.With("transfer", "attended", "by", from.person.AOR(), "joins", x.person.AOR(), "to", d.callee.AOR())
	log.Info("attended transfer")
	progress := s.newReferNotifier(c, from)
	progress.report("100 Trying")
	ev := Handover{Kind: "transfer-attended", By: from.person, Phone: from.phone, Party: x.person.AOR(),
		To: d.callee.AOR(), CallID: c.a.InviteRequest.CallID().Value(), Source: req.Source()}
	if y == nil {
		progress.report("180 Ringing")
		if y = waitAnswered(d, dFrom, x); y == nil {
			log.Info("attended transfer: the target did not answer")
			d.endTransfer()
			s.failTransfer(c, progress, 480, ev)
			return
		}
	}
	if err := s.joinParties(c, from, x, y); err != nil {
		log.Info("attended transfer failed", "err", err)
		d.endTransfer()
		s.failTransfer(c, progress, 500, ev)
		return
	}
	// y leaves its call d without a BYE; d then ends with the
	// transferor's leg in it.
	d.mu.Lock()
	for i, q := range d.parties {
		if q == y {
			d.parties[i] = nil
		}
	}
	d.transfer = nil
	d.signalSwap()
	d.mu.Unlock()
	s.completeTransfer(c, from, y, progress, ev)
	d.hangup(context.Background())
}

// joinParties joins x (of c) to y (of the transferor's other call),
// through a relay of their own when either is an outside party: media
// of a trunk call is anchored here. x falls back to the transferor's
// SDP, as its call's relay showed it to x, if y refuses.
func (s *Server) joinParties(c *call, from, x, y *party) error {
	a, err := s.anchorFor(x, y)
	if err != nil {
		return err
	}
	return a.settle(c, x, s.join(x, y, c.sdpSeenBy(s, from, x), a))
}

// waitAnswered waits until the ringing call d (the transferor's
// consultation) is answered and bridged, and returns the party that
// answered; nil when d ended first or x, who is to be joined to it,
// hung up. A call has no "answered" signal of its own, and this wait is
// rare and bounded by d's ring timeout, so it looks every 50 ms.
func waitAnswered(d *call, dFrom, x *party) *party {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		// Bridged once the transferor has ACKed the answer: re-INVITEs
		// to the target must not overtake our ACK of its 200.
		if y := d.other(dFrom); y != nil && confirmed(dFrom) {
			return y
		}
		select {
		case <-d.done:
			return nil
		case <-x.done():
			return nil
		case <-tick.C:
		}
	}
}

func confirmed(p *party) bool {
	l, ok := p.leg.(interface{ LoadState() sip.DialogState })
	return ok && l.LoadState() >= sip.DialogStateConfirmed
}

// endTransfer forgets a transfer that did not happen.
func (c *call) endTransfer() {
	c.mu.Lock()
	c.transfer = nil
	c.mu.Unlock()
}
