package pbx

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// call is one call through the PBX: the A-leg from the calling phone,
// and either a B-leg to whichever of the callee's phones answered
// (bridged), or our own media (a feature). The INVITE handler goroutine
// owns it from start to end.
type call struct {
	log      *slog.Logger
	caller   *store.Extension // the phone that authenticated the INVITE
	identity *store.Extension // who the call is made as (caller ID)
	callee   *store.Extension // nil on a feature call
	seat     *store.Extension // whose phones ring for the callee (its ring target)
	feature  string           // the feature answered by the PBX, if any
	started  time.Time

	a       *aLeg
	pickups chan pickupClaim // phones dialling *8 to take the call while it rings

	mu       sync.Mutex
	b        *bLeg // nil until a phone answered
	answered time.Time
	ended    bool
	handle   string        // CallInfo.ID, made when first listed
	done     chan struct{} // closed by end
	// parties are who talk once answered: the caller, and whoever took
	// the call; a transfer or a pickup puts another party in one's place.
	parties  [2]*party
	swapped  chan struct{} // a party was replaced: hold watches the new one
	transfer *transferState
	// For the call list: the last transfer, and who picked the call up.
	transferredBy, transferredTo, pickedUpBy string
	// Busy lamps a transfer moved: persons who left the call (their lamp
	// went off then) and colleagues it joined (lit until it ends).
	leftLamps   map[int64]bool
	joinedLamps []*store.Extension

	// A feature call's own media, and our SDP answer to renegotiate from
	// (under mu).
	media  *media.Session
	answer *media.Answer

	relay *callRelay // RTP anchored here (calls to and from a trunk); nil passes SDP through
}

// openCall accepts the INVITE as the call's A-leg and lists the call.
// The caller must close it.
func (s *Server) openCall(nc newCall, callee *store.Extension) (*call, bool) {
	a, ok := s.acceptALeg(nc.req, nc.tx)
	if !ok {
		return nil, false
	}
	c := &call{log: nc.log, caller: nc.caller, identity: nc.identity, callee: callee, started: s.db.Now(), a: a,
		done: make(chan struct{}), swapped: make(chan struct{}, 1), pickups: make(chan pickupClaim)}
	c.parties[0] = &party{leg: a, phone: nc.caller, person: nc.identity}
	s.calls.add(c, c.parties[0])
	return c, true
}

// openRingingCall is openCall for a call that rings someone: its busy
// lamps go early now, and end, the call closed, is deferred by the
// caller (lamps terminated, then close).
func (s *Server) openRingingCall(nc newCall, callee *store.Extension) (c *call, end func(), ok bool) {
	if c, ok = s.openCall(nc, callee); !ok {
		return nil, nil, false
	}
	s.observeCall(c, CallEarly)
	return c, func() {
		s.observeCall(c, CallTerminated)
		c.close(s)
	}, true
}

// close unlists the call and releases its dialogs.
func (c *call) close(s *Server) {
	s.calls.remove(c)
	c.mu.Lock()
	b, parties, relay := c.b, c.parties, c.relay
	c.mu.Unlock()
	if relay != nil {
		// Its owner may close it too; a transfer out may have put in
		// one that only the call knows of.
		relay.Close()
	}
	if b != nil {
		b.Close()
	}
	for _, p := range parties {
		if p != nil {
			p.leg.Close()
		}
	}
	c.a.Close()
}

// notAnswered tells the caller why no phone took the call; 0 means the
// caller cancelled and has its 487 already.
func (c *call) notAnswered(final int) {
	c.log.Info("call not answered", "code", final)
	if final > 0 {
		c.a.refuse(final)
	}
	c.end()
}

// bridge connects the caller to the phone that answered, and holds the
// call until either side (or the PBX) ends it.
func (c *call) bridge(s *Server, b *bLeg) {
	c.mu.Lock()
	c.b = b
	c.answered = s.db.Now()
	c.parties[1] = &party{leg: b, phone: c.seat, person: c.callee}
	c.mu.Unlock()
	s.calls.add(c, c.parties[1])

	if err := b.Ack(s.ctx); err != nil {
		c.log.Warn("ACK to callee failed", "err", err)
	}
	var ct sip.Header
	if h := b.InviteResponse.ContentType(); h != nil {
		ct = sip.HeaderClone(h)
	}
	if err := c.a.answer(b.InviteResponse.Body(), ct); err != nil {
		// No ACK from the caller, or the caller hung up first (BYE can
		// overtake ACK: handlers run concurrently).
		c.log.Info("caller did not confirm the answer", "err", err)
		c.hangup(context.Background())
		return
	}
	c.log.Info("call answered")
	s.observeCall(c, CallConfirmed)
	c.hold(s)
}

// hold waits until the call ends: by the PBX, or a party's hanging up.
// A party that a transfer or pickup replaced may end without ending
// the call; hold then watches whoever took its place.
func (c *call) hold(s *Server) {
	for ended := false; !ended; {
		c.mu.Lock()
		p0, p1 := c.parties[0].done(), c.parties[1].done()
		c.mu.Unlock()
		select {
		case <-c.done:
			ended = true
		case <-p0:
			ended = c.hangupIfParty(0, p0)
		case <-p1:
			ended = c.hangupIfParty(1, p1)
		case <-c.swapped:
		case <-s.ctx.Done():
			c.hangup(context.Background())
			ended = true
		}
	}
	c.log.Info("call ended", "duration", s.db.Now().Sub(c.answered).Round(time.Second))
}

// hangupIfParty ends the call when the party at i, whose dialog ended
// (its done channel was gone), was still a party of the call and not
// one that leaves it to the others (a transferor: see leaves).
func (c *call) hangupIfParty(i int, gone <-chan struct{}) bool {
	c.mu.Lock()
	p := c.parties[i]
	c.mu.Unlock()
	if p.done() != gone || c.leaves(p) {
		return false
	}
	c.hangup(context.Background())
	return true
}

// end marks the call over once; the first caller of end does the BYEs.
func (c *call) end() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false
	}
	c.ended = true
	close(c.done)
	return true
}

// over says whether the call has been ended, e.g. by an admin's hang-up
// while it rang.
func (c *call) over() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// hangup ends the call from the PBX side: BYE to each answered leg. A
// call not yet answered is only marked over; its owner then cancels the
// ringing legs and answers the caller.
func (c *call) hangup(ctx context.Context) {
	if !c.end() {
		return
	}
	c.mu.Lock()
	parties, answered := c.parties, !c.answered.IsZero()
	c.mu.Unlock()
	if !answered {
		return
	}
	var wg sync.WaitGroup
	for _, p := range parties {
		if p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); byeCtx(ctx, p.leg.Bye) }()
		}
	}
	wg.Wait()
}

// party is one side of an answered call: the caller's server dialog, or
// a client dialog of ours (the callee's phone that answered, a transfer
// target). A transfer or a pickup puts a new party in one's place.
type party struct {
	leg    partyLeg
	phone  *store.Extension // the phone's own extension (a seat when hot-desking)
	person *store.Extension // who talks on it: caller ID, and whose dial plan
}

// partyLeg is what a bridge needs of a dialog, whichever side opened it.
type partyLeg interface {
	Context() context.Context
	TransactionRequest(context.Context, *sip.Request) (sip.ClientTransaction, error)
	WriteRequest(*sip.Request) error
	ReadBye(*sip.Request, sip.ServerTransaction) error
	Bye(context.Context) error
	Close() error
	remoteTarget() sip.Uri // where in-dialog requests go: the phone's Contact
	dialogID() string
}

func (a *aLeg) remoteTarget() sip.Uri { return a.InviteRequest.Contact().Address }
func (a *aLeg) dialogID() string      { return a.ID }
func (b *bLeg) remoteTarget() sip.Uri { return b.InviteResponse.Contact().Address }
func (b *bLeg) dialogID() string      { return b.ID }

// done is closed when the party's dialog ends; nil (never) for no party.
func (p *party) done() <-chan struct{} {
	if p == nil {
		return nil
	}
	return p.leg.Context().Done()
}

// other is the party p talks to, nil when p is no longer a party of the
// call or has nobody (yet) to talk to.
func (c *call) other(p *party) *party {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p {
	case c.parties[0]:
		return c.parties[1]
	case c.parties[1]:
		return c.parties[0]
	}
	return nil
}

// isFirst says whether p is the call's first party: the caller, or
// whoever a transfer put in the caller's place.
func (c *call) isFirst(p *party) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return p != nil && p == c.parties[0]
}

// isParty says whether p still talks in the call.
func (c *call) isParty(p *party) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return p != nil && (p == c.parties[0] || p == c.parties[1])
}

func byeCtx(parent context.Context, bye func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, 8*time.Second)
	defer cancel()
	return bye(ctx)
}
