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
	feature  string           // the feature answered by the PBX, if any
	started  time.Time

	a *aLeg

	mu       sync.Mutex
	b        *bLeg // nil until a phone answered
	answered time.Time
	ended    bool
	handle   string        // CallInfo.ID, made when first listed
	done     chan struct{} // closed by end

	// A feature call's own media, and our SDP answer to renegotiate from
	// (under mu).
	media  *media.Session
	answer *media.Answer
}

// openCall accepts the INVITE as the call's A-leg and lists the call.
// The caller must close it.
func (s *Server) openCall(nc newCall, callee *store.Extension) (*call, bool) {
	a, ok := s.acceptALeg(nc.req, nc.tx)
	if !ok {
		return nil, false
	}
	c := &call{log: nc.log, caller: nc.caller, identity: nc.identity, callee: callee, started: s.db.Now(), a: a, done: make(chan struct{})}
	s.calls.add(c, a.ID)
	return c, true
}

// close unlists the call and releases its dialogs.
func (c *call) close(s *Server) {
	s.calls.remove(c)
	c.mu.Lock()
	b := c.b
	c.mu.Unlock()
	if b != nil {
		b.Close()
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
	c.mu.Unlock()
	s.calls.add(c, b.ID)

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
	select {
	case <-c.done:
	case <-c.a.Context().Done():
		c.hangup(context.Background())
	case <-b.Context().Done():
		c.hangup(context.Background())
	case <-s.ctx.Done():
		c.hangup(context.Background())
	}
	c.log.Info("call ended", "duration", s.db.Now().Sub(c.answered).Round(time.Second))
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
	b, answered := c.b, !c.answered.IsZero()
	c.mu.Unlock()
	if !answered {
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); byeCtx(ctx, func(ctx context.Context) error { return c.a.Bye(ctx) }) }()
	if b != nil {
		wg.Add(1)
		go func() { defer wg.Done(); byeCtx(ctx, func(ctx context.Context) error { return b.Bye(ctx) }) }()
	}
	wg.Wait()
}

func byeCtx(parent context.Context, bye func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(parent, 8*time.Second)
	defer cancel()
	return bye(ctx)
}
