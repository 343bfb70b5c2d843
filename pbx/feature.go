package pbx

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// Feature is a call the PBX answers itself, such as an echo test or a
// hot-desk login (the dial plan says which). It runs until it returns or
// the caller hangs up (ctx is done); the PBX then ends the call.
type Feature func(ctx context.Context, fc *FeatureCall)

// FeatureCall is what a feature sees of its call: who called, and the
// voice-menu surface (prompts, digits, hang up) over the call's media.
type FeatureCall struct {
	Caller   *store.Extension // the phone's authenticated extension (the seat)
	Identity *store.Extension // who the caller is (differs when hot-desking)
	Source   string           // host:port the INVITE came from
	Log      *slog.Logger

	media *media.Session
	call  *call
}

// Play plays prompts; a key press stops it (barge-in) and is kept for
// the next Collect.
func (fc *FeatureCall) Play(ctx context.Context, prompts ...[]byte) error {
	return fc.media.Play(ctx, prompts...)
}

// PlayNoBarge plays prompts to the end whatever is pressed.
func (fc *FeatureCall) PlayNoBarge(ctx context.Context, prompts ...[]byte) error {
	return fc.media.PlayNoBarge(ctx, prompts...)
}

// Record records what the caller says (see media.Session.Record).
func (fc *FeatureCall) Record(ctx context.Context, lim media.RecordLimits) ([]int16, media.RecordEnd) {
	return fc.media.Record(ctx, lim)
}

// Collect gathers digits (see media.Session.Collect for its endings).
func (fc *FeatureCall) Collect(ctx context.Context, max int, terminator rune, firstDigit, interDigit time.Duration) (string, error) {
	return fc.media.Collect(ctx, max, terminator, firstDigit, interDigit)
}

// NextDigit waits for one key press and says how the phone sent it.
func (fc *FeatureCall) NextDigit(ctx context.Context) (media.Digit, error) {
	return fc.media.NextDigit(ctx)
}

// Echo sends the caller's audio back until ctx ends.
func (fc *FeatureCall) Echo(ctx context.Context) error { return fc.media.Echo(ctx) }

// MethodsSeen is every DTMF method that carried a key so far.
func (fc *FeatureCall) MethodsSeen() media.Method { return fc.media.MethodsSeen() }

// Hangup ends the call (BYE) now; the feature should return after it.
func (fc *FeatureCall) Hangup() { go fc.call.hangup(context.Background()) }

// runOwnMedia answers the caller with our own media and runs f on it
// until f returns or the caller hangs up: a feature code, or a call that
// no phone answered.
func (c *call) runOwnMedia(s *Server, f *FeatureRoute) {
	c.mu.Lock()
	c.feature = f.Name
	c.mu.Unlock()
	// Each such call holds an RTP port for as long as the phone likes:
	// without a cap, one phone could take the whole range.
	if c.caller != nil {
		if !s.featureCalls.take(c.caller.ID, s.cfg.FeatureCallsPerPhone) {
			c.log.Warn("feature call refused: the phone has too many", "feature", f.Name, "limit", s.cfg.FeatureCallsPerPhone)
			c.a.refuse(486)
			return
		}
		defer s.featureCalls.give(c.caller.ID)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	sess, ok := c.openOwnMedia(ctx, s, f.Priority)
	if !ok {
		return
	}
	defer sess.Close()
	if !c.presentOwnMedia(s, f) {
		return
	}
	go func() {
		select {
		case <-c.done:
		case <-c.a.Context().Done():
		case <-sess.Done():
		}
		cancel()
	}()
	f.Run(ctx, &FeatureCall{Caller: c.caller, Identity: c.identity, Source: c.a.InviteRequest.Source(), Log: c.log, media: sess, call: c})
	if f.Refuse != 0 {
		c.refuseAfterEarlyMedia(f.Refuse)
	} else {
		c.hangup(context.Background())
	}
	st := sess.Stats()
	s.metrics.RTP(st.Sent, st.Late, 0) // media does not count losses yet
	// Late counts prompt frames sent more than 5 ms after their slot: the
	// first sign of an overloaded box, visible without a packet capture.
	c.log.Info("feature call ended", "feature", f.Name, "rtp_sent", st.Sent, "rtp_received", st.Received,
		"rtp_late", st.Late, "rtp_ignored", st.Ignored, "latched", st.Latched.String())
}

// openOwnMedia answers the caller's SDP offer with an RTP session of
// ours; when it cannot, the caller is refused.
func (c *call) openOwnMedia(ctx context.Context, s *Server, priority bool) (*media.Session, bool) {
	offer := c.a.InviteRequest.Body()
	if len(offer) == 0 {
		// We do not do late offers: the phone must offer media.
		c.a.refuse(488)
		return nil, false
	}
	ans, err := media.Negotiate(offer)
	if err != nil {
		c.log.Info("feature call media refused", "err", err)
		c.a.refuse(488, sip.NewHeader("Warning", `304 deskpbx "PCMU or PCMA only"`))
		return nil, false
	}
	// RTP is taken only from the phone's SIP source or SDP address.
	sig, _ := netip.ParseAddrPort(c.a.InviteRequest.Source())
	sess, err := media.NewSession(ctx, s.ports, s.rtpIP, media.Config{Logger: c.log, Signaling: sig.Addr(), Priority: priority})
	if err != nil {
		c.log.Error("no RTP port for feature call", "err", err)
		c.a.refuse(503)
		return nil, false
	}
	sess.SetRemote(ans.Negotiated)
	c.mu.Lock()
	c.media, c.answer = sess, ans
	c.mu.Unlock()
	return sess, true
}

// answerWithOwnMedia sends the caller 200 OK with our SDP answer.
func (c *call) answerWithOwnMedia(s *Server) bool {
	c.mu.Lock()
	sdp := c.answer.Marshal(s.contactIP, c.media.Port())
	c.answered = s.db.Now()
	c.mu.Unlock()
	if err := c.a.answer(sdp, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		c.log.Info("caller did not confirm the answer", "err", err)
		c.hangup(context.Background())
		return false
	}
	return true
}

// presentOwnMedia puts our media before the caller: answered (200), or
// as early media (183) for a refusal that explains itself.
func (c *call) presentOwnMedia(s *Server, f *FeatureRoute) bool {
	if f.Refuse == 0 {
		if !c.answerWithOwnMedia(s) {
			return false
		}
		c.log.Info("feature call answered", "feature", f.Name)
		return true
	}
	if !c.offerEarlyMedia(s) {
		return false
	}
	c.log.Info("feature call in early media, then refused", "feature", f.Name, "code", f.Refuse)
	return true
}

// offerEarlyMedia sends the caller 183 Session Progress with our SDP
// answer: the caller hears our media but the call is not answered, so
// nothing is billed and the phone still gets a final failure status.
func (c *call) offerEarlyMedia(s *Server) bool {
	c.mu.Lock()
	sdp := c.answer.Marshal(s.contactIP, c.media.Port())
	c.mu.Unlock()
	if err := c.a.Respond(183, "Session Progress", sdp, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
		c.log.Info("caller gone before early media", "err", err)
		c.end()
		return false
	}
	return true
}

// refuseAfterEarlyMedia ends a call that only had early media with the
// final status code; a caller who cancelled has its 487 already.
func (c *call) refuseAfterEarlyMedia(code int) {
	if c.a.Context().Err() == nil {
		c.a.refuse(code)
	}
	c.end()
}

// ownMedia is the call's own media session, nil on a bridged call.
func (c *call) ownMedia() *media.Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.media
}

// answerFeatureInDialog handles requests within a feature call: DTMF by
// SIP INFO feeds the digit stream; a re-INVITE or UPDATE (hold, resume,
// new address) is answered from our own media.
func (s *Server) answerFeatureInDialog(c *call, req *sip.Request, tx sip.ServerTransaction) {
	switch req.Method {
	case sip.INFO:
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if key, ok := media.ParseINFO(ct, req.Body()); ok {
			c.ownMedia().FeedDigit(key, media.INFO)
			s.respond(tx, req, 200, "OK")
			return
		}
		s.respond(tx, req, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
	case sip.INVITE, sip.UPDATE:
		if len(req.Body()) == 0 {
			s.respond(tx, req, 200, "OK")
			return
		}
		c.mu.Lock()
		ans, err := c.answer.Renegotiate(req.Body())
		if err == nil {
			c.answer = ans
		}
		c.mu.Unlock()
		if err != nil {
			s.respond(tx, req, 488, "Not Acceptable Here")
			return
		}
		c.ownMedia().SetRemote(ans.Negotiated)
		res := sip.NewResponseFromRequest(req, 200, "OK", ans.Marshal(s.contactIP, c.ownMedia().Port()))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(sip.HeaderClone(&s.dua.ContactHDR))
		tx.Respond(res)
	default:
		s.respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
	}
}

// perPhone counts the feature calls of each phone (its extension's row ID).
type perPhone struct {
	mu sync.Mutex
	n  map[int64]int
}

// take counts one more call of id unless it has limit already.
func (p *perPhone) take(id int64, limit int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == nil {
		p.n = map[int64]int{}
	}
	if p.n[id] >= limit {
		return false
	}
	p.n[id]++
	return true
}

func (p *perPhone) give(id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[id]--; p.n[id] <= 0 {
		delete(p.n, id)
	}
}
