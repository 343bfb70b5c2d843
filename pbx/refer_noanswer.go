package pbx

import (
	"context"
	"net/netip"

	"deskpbx/media"
)

// transferToOwnMedia is a blind transfer whose target did not answer
// (busy, declined, no answer) where the dial plan says what then, as on
// a direct call (Ring.NoAnswer, e.g. the target's voicemail): the
// transfer is done as far as the transferor is concerned, and the
// remaining party is answered with our own media and the feature runs.
func (s *Server) transferToOwnMedia(c *call, from, rest *party, r *Ring, progress *referNotifier, ev Handover) {
	c.mu.Lock()
	for i, q := range c.parties {
		if q == from {
			c.parties[i] = nil
		}
	}
	c.transfer = nil
	c.transferredBy, c.transferredTo = from.person.AOR(), r.Callee.AOR()
	c.signalSwap()
	c.mu.Unlock()
	s.observeTransfer(c, from, rest, nil) // the mailbox's owner is not on the phone
	progress.finish("200 OK")
	byeCtx(context.Background(), from.leg.Bye)
	ev.OK = true
	s.handover(ev)
	c.runOwnMediaFor(s, rest, r.NoAnswer)
}

// runOwnMediaFor answers p, a party of an answered call, with our own
// media and runs f for it until f returns or p hangs up. p offers (an
// offerless re-INVITE) so that its later re-INVITEs are answered from
// the same negotiation as a feature call's (answerFeatureInDialog).
func (c *call) runOwnMediaFor(s *Server, p *party, f *FeatureRoute) {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	reinv, err := sendReinvite(ctx, p, nil)
	if err != nil {
		c.log.Info("no-answer feature: the remaining party refused our re-INVITE", "err", err)
		c.hangup(context.Background())
		return
	}
	ans, err := media.Negotiate(reinv.res.Body())
	if err != nil {
		reinv.ack(nil)
		c.log.Info("no-answer feature: no common codec", "err", err)
		c.hangup(context.Background())
		return
	}
	// RTP is taken only from the phone's SIP source or SDP address.
	sig, _ := netip.ParseAddrPort(partySource(p))
	sess, err := media.NewSession(ctx, s.ports, s.rtpIP, media.Config{Logger: c.log, Signaling: sig.Addr()})
	if err != nil {
		reinv.ack(nil)
		c.log.Error("no RTP port for the no-answer feature", "err", err)
		c.hangup(context.Background())
		return
	}
	defer sess.Close()
	sess.SetRemote(ans.Negotiated)
	c.mu.Lock()
	c.media, c.answer, c.feature = sess, ans, f.Name
	c.mu.Unlock()
	if err := reinv.ack(ans.Marshal(s.contactIP, sess.Port())); err != nil {
		c.hangup(context.Background())
		return
	}
	go func() {
		select {
		case <-c.done:
		case <-p.done():
		case <-sess.Done():
		}
		cancel()
	}()
	c.log.Info("no-answer feature runs for the transferred party", "feature", f.Name, "for", p.person.AOR())
	f.Run(ctx, &FeatureCall{Caller: p.phone, Identity: p.person, Source: partySource(p), Log: c.log, media: sess, call: c})
	c.hangup(context.Background())
}

// partySource is where p's phone sends its requests from.
func partySource(p *party) string {
	switch l := p.leg.(type) {
	case *aLeg:
		return l.InviteRequest.Source()
	case *bLeg:
		return l.InviteResponse.Source()
	}
	return ""
}
