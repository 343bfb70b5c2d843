package pbx

import (
	"context"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// pickupClaim is a phone that dialled a pickup code asking a ringing
// call to take it instead of the phones it rings.
type pickupClaim struct {
	by    *party
	taken chan bool // buffered: the fork answers without waiting
}

// ringingCalls is every call ringing now, by the callee it rings for, so
// that a pickup finds it wherever it rings (a seat when hot-desked: the
// key is the person called, not the phone).
type ringingCalls struct {
	mu       sync.Mutex
	byCallee map[int64]map[*call]chan struct{} // closed when the call stops ringing
}

func newRingingCalls() *ringingCalls {
	return &ringingCalls{byCallee: make(map[int64]map[*call]chan struct{})}
}

func (r *ringingCalls) add(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byCallee[c.callee.ID]
	if m == nil {
		m = make(map[*call]chan struct{})
		r.byCallee[c.callee.ID] = m
	}
	m[c] = make(chan struct{})
}

func (r *ringingCalls) remove(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if stopped, ok := r.byCallee[c.callee.ID][c]; ok {
		close(stopped)
		delete(r.byCallee[c.callee.ID], c)
	}
	if len(r.byCallee[c.callee.ID]) == 0 {
		delete(r.byCallee, c.callee.ID)
	}
}

// oldest is the call that has rung longest for pk's callee (any callee
// of pk's tenant when it names none), other than one placed from phone.
func (r *ringingCalls) oldest(pk *Pickup, phone int64) (*call, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best *call
	var stopped chan struct{}
	consider := func(m map[*call]chan struct{}) {
		for c, ch := range m {
			if c.callee.TenantID != pk.TenantID || c.caller.ID == phone {
				continue
			}
			if best == nil || c.started.Before(best.started) {
				best, stopped = c, ch
			}
		}
	}
	if pk.Callee != nil {
		consider(r.byCallee[pk.Callee.ID])
	} else {
		for _, m := range r.byCallee {
			consider(m)
		}
	}
	return best, stopped
}

// pickup answers a call ringing for someone else at the phone that
// dialled the pickup code: the ringing call's owner takes this INVITE
// as its answering party (bridgePickup) and cancels its phones.
func (s *Server) pickup(nc newCall, pk *Pickup) {
	if len(nc.req.Body()) == 0 {
		s.respond(nc.tx, nc.req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `399 deskpbx "SDP offer required in INVITE"`))
		return
	}
	target, stopped := s.ringing.oldest(pk, nc.caller.ID)
	if target == nil {
		nc.log.Info("pickup: no call rings", "callee", pickupCallee(pk))
		s.respond(nc.tx, nc.req, 480, "Temporarily Unavailable")
		return
	}
	a, ok := s.acceptALeg(nc.req, nc.tx)
	if !ok {
		return
	}
	claim := pickupClaim{by: &party{leg: a, phone: nc.caller, person: nc.identity}, taken: make(chan bool, 1)}
	taken := false
	select {
	case target.pickups <- claim:
		taken = <-claim.taken
	case <-stopped:
	case <-a.Context().Done():
	}
	s.handover(Handover{Kind: "pickup", By: nc.identity, Phone: nc.caller, Party: target.identity.AOR(),
		To: target.callee.AOR(), OK: taken, CallID: target.a.InviteRequest.CallID().Value(), Source: nc.req.Source()})
	if !taken {
		nc.log.Info("pickup: the call stopped ringing first", "callee", target.callee.AOR())
		a.refuse(480)
		a.Close()
		return
	}
	nc.log.Info("picked up a ringing call", "callee", target.callee.AOR(), "caller_call_id", target.a.InviteRequest.CallID().Value())
	// The picked call's owner answers this INVITE and runs the call;
	// this handler keeps the INVITE's transaction alive (sipgo ends it
	// when its handler returns) until that call is over.
	<-target.done
}

func pickupCallee(pk *Pickup) string {
	if pk.Callee == nil {
		return "any"
	}
	return pk.Callee.AOR()
}

// pickedUp says whether a pickup took the call while it rang.
func (c *call) pickedUp() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b == nil && c.parties[1] != nil
}

// bridgePickup connects the caller to the phone that picked the call up.
// Both offered SDP and neither has an answer yet: each gets the other's
// offer as its answer. Each offer lists what its phone can receive, so
// each sends what the other listed; no third offer (and no re-INVITE)
// is needed.
func (c *call) bridgePickup(s *Server) {
	c.mu.Lock()
	p := c.parties[1]
	c.answered = s.db.Now()
	c.pickedUpBy = p.person.AOR()
	c.mu.Unlock()
	picker := p.leg.(*aLeg)
	s.calls.add(c, p)
	ct := sip.NewHeader("Content-Type", "application/sdp")
	// A provider's call is relayed: its offer was rewritten for the
	// phones already; the picker's offer must be, for the provider.
	callerAnswer := c.relaySDP(s, false, picker.InviteRequest.Body())
	if c.relay != nil {
		c.relay.Start()
	}
	var pickerErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pickerErr = picker.answer(c.a.InviteRequest.Body(), ct)
	}()
	callerErr := c.a.answer(callerAnswer, sip.HeaderClone(ct))
	wg.Wait()
	if callerErr != nil || pickerErr != nil {
		c.log.Info("pickup not confirmed", "caller_err", callerErr, "picker_err", pickerErr)
		c.hangup(context.Background())
		return
	}
	c.log.Info("call answered by pickup", "by", p.person.AOR())
	c.hold(s)
}
