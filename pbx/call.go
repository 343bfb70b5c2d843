package pbx

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// call is one bridged call between two extensions: the A-leg from the
// calling phone, and the B-leg to whichever of the callee's phones
// answered. The INVITE handler goroutine owns it from start to end.
type call struct {
	log      *slog.Logger
	caller   *store.Extension // the phone that authenticated the INVITE
	identity *store.Extension // who the call is made as (caller ID)
	callee   *store.Extension // nil on a feature call
	feature  string           // the feature code answered by the PBX, if any
	started  time.Time

	// A feature call's own media, and our SDP answer to renegotiate from.
	media  *media.Session
	answer *media.Answer

	a *sipgo.DialogServerSession

	mu       sync.Mutex
	b        *sipgo.DialogClientSession // nil until answered
	answered time.Time
	ended    bool
	handle   string        // CallInfo.ID, made when first listed
	done     chan struct{} // closed by end
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

// callTable finds calls by either leg's dialog ID.
type callTable struct {
	mu       sync.Mutex
	byDialog map[string]*call
	all      map[*call]struct{}
}

func newCallTable() *callTable {
	return &callTable{byDialog: make(map[string]*call), all: make(map[*call]struct{})}
}

func (t *callTable) add(c *call, dialogID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byDialog[dialogID] = c
	t.all[c] = struct{}{}
}

func (t *callTable) remove(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, v := range t.byDialog {
		if v == c {
			delete(t.byDialog, id)
		}
	}
	delete(t.all, c)
}

// match finds the call an in-dialog request belongs to and says whether
// it came from the A side (the caller).
func (t *callTable) match(req *sip.Request) (c *call, fromA bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := t.byDialog[id]; c != nil {
			return c, true
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := t.byDialog[id]; c != nil {
			return c, false
		}
	}
	return nil, false
}

func (t *callTable) snapshot() []*call {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*call, 0, len(t.all))
	for c := range t.all {
		out = append(out, c)
	}
	return out
}

func (t *callTable) hangupAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range t.snapshot() {
		wg.Add(1)
		go func() { defer wg.Done(); c.hangup(ctx) }()
	}
	wg.Wait()
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

// legResult is how one forked B-leg ended its INVITE transaction.
type legResult struct {
	leg *sipgo.DialogClientSession
	err error
}

// onInvite handles every INVITE: new calls, and re-INVITEs within one.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.relayInDialog(req, tx)
		return
	}
	if s.draining.Load() {
		s.respond(tx, req, 503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
		return
	}
	if mf := req.MaxForwards(); mf != nil && mf.Val() == 0 {
		s.respond(tx, req, 483, "Too Many Hops")
		return
	}
	from := req.From()
	if from == nil || req.Contact() == nil {
		s.respond(tx, req, 400, "Missing From or Contact")
		return
	}
	ctx := s.ctx
	caller := s.authenticate(ctx, req, tx, from.Address.Host)
	if caller == nil {
		return
	}
	identity := s.identityOf(caller)
	dialled := req.Recipient.User
	log := s.log.With("call_id", req.CallID().Value(), "caller", caller.AOR(), "as", identity.AOR(), "dialled", dialled)

	if f, ok := s.features[dialled]; ok {
		s.runFeature(req, tx, dialled, f, caller, identity, log)
		return
	}
	if len(req.Body()) == 0 {
		// No late offers: the B2BUA ACKs the callee without an answer,
		// so a call without SDP in the INVITE would have no audio.
		s.respond(tx, req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `399 deskpbx "SDP offer required in INVITE"`))
		return
	}
	callee, err := s.db.ExtensionByNumber(ctx, identity.TenantID, dialled)
	if err != nil {
		if store.ErrorCode(err) == store.ENOTFOUND {
			log.Info("call to unknown number")
			s.respond(tx, req, 404, "Not Found")
		} else {
			log.Error("callee lookup", "err", err)
			s.respond(tx, req, 500, "Server Internal Error")
		}
		return
	}
	bindings := s.location.Lookup(s.ringTarget(callee).ID)
	if len(bindings) == 0 {
		log.Info("callee not registered", "callee", callee.AOR())
		s.respond(tx, req, 480, "Temporarily Unavailable")
		return
	}
	a, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	defer a.Close()
	c := &call{log: log.With("callee", callee.AOR()), caller: caller, identity: identity, callee: callee,
		started: s.db.Now(), a: a, done: make(chan struct{})}
	s.calls.add(c, a.ID)
	defer s.calls.remove(c)
	c.run(s, req, bindings)
}

// run rings the callee's phones, bridges the first to answer and waits
// for the end of the call.
func (c *call) run(s *Server, req *sip.Request, bindings []store.Binding) {
	b, final := c.ring(s, req, bindings)
	if b == nil {
		c.log.Info("call not answered", "code", final)
		if final > 0 {
			c.a.Respond(final, reasonPhrase(final), nil)
		}
		c.end()
		return
	}
	c.mu.Lock()
	c.b = b
	c.answered = s.db.Now()
	c.mu.Unlock()
	s.calls.add(c, b.ID)
	defer b.Close()

	if err := b.Ack(s.ctx); err != nil {
		c.log.Warn("ACK to callee failed", "err", err)
	}
	answer := sip.NewResponseFromRequest(c.a.InviteRequest, 200, "OK", b.InviteResponse.Body())
	if ct := b.InviteResponse.ContentType(); ct != nil {
		answer.AppendHeader(sip.HeaderClone(ct))
	}
	if err := c.a.WriteResponse(answer); err != nil {
		// No ACK from the caller, or the caller hung up first (BYE can
		// overtake ACK: handlers run concurrently).
		c.log.Info("caller did not confirm the answer", "err", err)
		c.hangup(context.Background())
		return
	}
	c.log.Info("call answered")
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

// ring forks the INVITE to every binding and returns the answered leg,
// or nil and the final status to send the caller (0 when the caller
// cancelled, since the transaction layer has answered 487 already).
func (c *call) ring(s *Server, req *sip.Request, bindings []store.Binding) (*sipgo.DialogClientSession, int) {
	ringCtx, stopRinging := context.WithTimeout(s.ctx, s.cfg.RingTimeout)
	defer stopRinging()
	results := make(chan legResult, len(bindings))
	var legs []*sipgo.DialogClientSession
	var relayMu sync.Mutex
	sentRinging := false
	relay := func(res *sip.Response) error {
		if res.StatusCode != 180 && res.StatusCode != 183 {
			return nil
		}
		relayMu.Lock()
		defer relayMu.Unlock()
		if res.StatusCode == 180 && sentRinging {
			return nil
		}
		sentRinging = sentRinging || res.StatusCode == 180
		var hdrs []sip.Header
		if ct := res.ContentType(); ct != nil && len(res.Body()) > 0 {
			hdrs = append(hdrs, sip.HeaderClone(ct))
		}
		c.a.Respond(res.StatusCode, res.Reason, res.Body(), hdrs...)
		return nil
	}
	for _, bnd := range bindings {
		s.sendFromListener(bnd)
		leg, err := s.dua.WriteInvite(ringCtx, s.newCalleeInvite(req, c.identity, c.callee, bnd))
		if err != nil {
			c.log.Warn("INVITE to contact failed", "contact", bnd.Contact, "err", err)
			results <- legResult{err: err}
			continue
		}
		legs = append(legs, leg)
		go func() {
			err := leg.WaitAnswer(ringCtx, sipgo.AnswerOptions{OnResponse: relay})
			results <- legResult{leg: leg, err: err}
		}()
	}

	var winner *sipgo.DialogClientSession
	final := 0
	cancelled := false
	// Each fires once; a nil channel then keeps the select from spinning.
	aDone, callDone := c.a.Context().Done(), c.done
	for pending := len(bindings); pending > 0; {
		select {
		case r := <-results:
			pending--
			switch {
			case r.err == nil && winner == nil && !cancelled:
				winner = r.leg
				stopRinging() // CANCEL the others
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
			if winner == nil {
				cancelled = true
				stopRinging()
			}
		case <-callDone:
			callDone = nil
			if winner == nil {
				cancelled = true
				stopRinging()
			}
		}
	}
	for _, l := range legs {
		if l != winner {
			l.Close()
		}
	}
	if winner != nil {
		return winner, 0
	}
	if c.a.Context().Err() != nil {
		return nil, 0 // the caller cancelled
	}
	if s.draining.Load() {
		return nil, 503
	}
	if ringCtx.Err() != nil && final == 0 {
		final = 480
	}
	if final == 0 || final == 487 || final == 408 {
		final = 480
	}
	return nil, final
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

const allowedMethods = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER"

func reasonPhrase(code int) string {
	switch code {
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 488:
		return "Not Acceptable Here"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	return "Call Failed"
}

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
