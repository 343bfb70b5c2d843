package pbx

import (
	"context"
	"errors"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// bLeg is one outbound leg of a call: the client dialog of our INVITE to
// one registered phone of the callee.
type bLeg struct {
	*sipgo.DialogClientSession
}

// legResult is how one forked B-leg ended its INVITE transaction.
type legResult struct {
	leg *bLeg
	err error
}

// fork is the B side of a call while it rings: one leg per binding,
// ringing in parallel until one answers, all fail, the ring timeout
// passes or the caller gives up.
type fork struct {
	ctx     context.Context
	stop    context.CancelFunc // CANCELs every leg still ringing
	legs    []*bLeg
	results chan legResult
}

// ring forks the INVITE to every binding and returns the answered leg,
// or nil and the final status to send the caller (0 when the caller
// cancelled, since the transaction layer has answered 487 already).
func (c *call) ring(s *Server, bindings []store.Binding) (*bLeg, int) {
	f := c.startFork(s, bindings)
	defer f.stop()
	winner, final := f.wait(c, len(bindings))
	f.closeLosers(winner)
	if winner != nil {
		return winner, 0
	}
	switch {
	case c.a.Context().Err() != nil:
		return nil, 0 // the caller cancelled
	case s.draining.Load():
		return nil, 503
	case final == 0 || final == 487 || final == 408:
		return nil, 480 // nobody answered in time
	}
	return nil, final
}

// startFork sends one INVITE per binding; each leg's outcome arrives on
// the fork's results.
func (c *call) startFork(s *Server, bindings []store.Binding) *fork {
	f := &fork{results: make(chan legResult, len(bindings))}
	f.ctx, f.stop = context.WithTimeout(s.ctx, s.cfg.RingTimeout)
	for _, bnd := range bindings {
		s.sendFromListener(bnd)
		d, err := s.dua.WriteInvite(f.ctx, s.newCalleeInvite(c.a.InviteRequest, c.identity, c.callee, bnd))
		if err != nil {
			c.log.Warn("INVITE to contact failed", "contact", bnd.Contact, "err", err)
			f.results <- legResult{err: err}
			continue
		}
		leg := &bLeg{d}
		f.legs = append(f.legs, leg)
		go func() {
			err := leg.WaitAnswer(f.ctx, sipgo.AnswerOptions{OnResponse: c.a.progress})
			f.results <- legResult{leg: leg, err: err}
		}()
	}
	return f
}

// wait collects every leg's outcome: the first answer wins and the
// others are cancelled; with no answer, the most telling failure.
func (f *fork) wait(c *call, pending int) (winner *bLeg, final int) {
	cancelled := false
	// Each fires once; a nil channel then keeps the select from spinning.
	aDone, callDone := c.a.Context().Done(), c.done
	for pending > 0 {
		select {
		case r := <-f.results:
			pending--
			switch {
			case r.err == nil && winner == nil && !cancelled:
				winner = r.leg
				f.stop() // CANCEL the others
			case r.err == nil:
				// Answered too late (another phone won, or the caller
				// gave up): take the call and end it at once.
				r.leg.Ack(context.Background())
				byeCtx(context.Background(), r.leg.Bye)
			default:
				final = betterFinal(final, legStatus(r.err))
			}
		case <-aDone:
			aDone = nil
			cancelled = cancelled || f.abandon(winner)
		case <-callDone:
			callDone = nil
			cancelled = cancelled || f.abandon(winner)
		}
	}
	return winner, final
}

// abandon cancels every ringing leg when the caller gave up (or the call
// was hung up from the PBX) before any phone answered.
func (f *fork) abandon(winner *bLeg) bool {
	if winner != nil {
		return false
	}
	f.stop()
	return true
}

// closeLosers releases every leg but the winner's.
func (f *fork) closeLosers(winner *bLeg) {
	for _, l := range f.legs {
		if l != winner {
			l.Close()
		}
	}
}

// legStatus maps how a leg failed to the status it contributes: the
// phone's own answer, else (timeout, cancel, transport error) no answer.
func legStatus(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 480
}

// betterFinal picks what to tell the caller when every leg failed: a
// clear "busy" or "declined" from any phone beats "no answer".
func betterFinal(cur, next int) int {
	rank := func(code int) int {
		switch code {
		case 486, 600:
			return 4
		case 603:
			return 3
		case 480, 408, 487:
			return 1
		case 0:
			return 0
		}
		return 2
	}
	if rank(next) > rank(cur) {
		return next
	}
	return cur
}

// newCalleeInvite builds the B-leg INVITE to one binding: Request-URI
// its Contact, sent to the address the phone registered from; From is
// the caller's identity as stored, never what the phone claimed.
func (s *Server) newCalleeInvite(a *sip.Request, identity, callee *store.Extension, b store.Binding) *sip.Request {
	var target sip.Uri
	if err := sip.ParseUri(b.Contact, &target); err != nil {
		target = sip.Uri{Scheme: "sip", User: callee.Number, Host: b.Source}
	}
	req := sip.NewRequest(sip.INVITE, target)
	from := &sip.FromHeader{
		DisplayName: identity.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: identity.Number, Host: identity.Domain},
		Params:      sip.NewParams(),
	}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{
		DisplayName: callee.DisplayName,
		Address:     sip.Uri{Scheme: "sip", User: callee.Number, Host: callee.Domain},
		Params:      sip.NewParams(),
	})
	if mf := a.MaxForwards(); mf != nil {
		v := sip.MaxForwardsHeader(max(mf.Val()-1, 0))
		req.AppendHeader(&v)
	}
	req.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	if ct := a.ContentType(); ct != nil {
		req.AppendHeader(sip.HeaderClone(ct))
	}
	req.SetBody(a.Body())
	req.SetDestination(b.Source)
	req.SetTransport(strings.ToUpper(b.Transport))
	return req
}

const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER, SUBSCRIBE"

// sendFromListener makes requests to a phone registered over UDP leave
// from our SIP port, as its NAT pinhole and its idea of who we are
// expect. sipgo learns that pairing only from packets the phone sends us,
// so after a restart (bindings restored from the database) it would
// otherwise open a new socket on an ephemeral port.
func (s *Server) sendFromListener(b store.Binding) {
	if !strings.EqualFold(b.Transport, "udp") {
		return
	}
	pool := s.ua.TransportLayer().Pool("udp")
	if c := pool.Get(b.Source); c != nil {
		c.Ref(-1)
		return
	}
	if l := pool.Get(s.udp.LocalAddr().String()); l != nil {
		l.Ref(-1)
		pool.Add(b.Source, l)
	}
}
