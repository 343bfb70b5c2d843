package pbx

import (
	"context"
	"log/slog"
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

// runFeature answers a call to a feature code with our own media and
// runs the feature on it.
func (s *Server) runFeature(req *sip.Request, tx sip.ServerTransaction, f *FeatureRoute, caller, identity *store.Extension, log *slog.Logger) {
	code := f.Name
	if len(req.Body()) == 0 {
		// We do not do late offers: the phone must offer media.
		s.respond(tx, req, 488, "Not Acceptable Here")
		return
	}
	ans, err := media.Negotiate(req.Body())
	if err != nil {
		log.Info("feature call media refused", "err", err)
		s.respond(tx, req, 488, "Not Acceptable Here", sip.NewHeader("Warning", `304 deskpbx "PCMU or PCMA only"`))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	sess, err := media.NewSession(ctx, s.ports, s.rtpIP, media.Config{Logger: log})
	if err != nil {
		log.Error("no RTP port for feature call", "err", err)
		s.respond(tx, req, 503, "Service Unavailable")
		return
	}
	defer sess.Close()
	sess.SetRemote(ans.Negotiated)

	a, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	defer a.Close()
	c := &call{log: log, caller: caller, identity: identity, feature: code, started: s.db.Now(),
		a: a, media: sess, answer: ans, done: make(chan struct{})}
	s.calls.add(c, a.ID)
	defer s.calls.remove(c)

	answer := sip.NewResponseFromRequest(a.InviteRequest, 200, "OK", ans.Marshal(s.contactIP, sess.Port()))
	answer.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	c.mu.Lock()
	c.answered = s.db.Now()
	c.mu.Unlock()
	if err := a.WriteResponse(answer); err != nil {
		log.Info("caller did not confirm the answer", "err", err)
		c.hangup(context.Background())
		return
	}
	go func() {
		select {
		case <-c.done:
		case <-a.Context().Done():
		case <-sess.Done():
		}
		cancel()
	}()
	log.Info("feature call answered", "feature", code)
	f.Run(ctx, &FeatureCall{Caller: caller, Identity: identity, Source: req.Source(), Log: log, media: sess, call: c})
	c.hangup(context.Background())
	st := sess.Stats()
	// Late counts prompt frames sent more than 5 ms after their slot: the
	// first sign of an overloaded box, visible without a packet capture.
	log.Info("feature call ended", "feature", code, "rtp_sent", st.Sent, "rtp_received", st.Received,
		"rtp_late", st.Late, "rtp_ignored", st.Ignored, "latched", st.Latched.String())
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
			c.media.FeedDigit(key, media.INFO)
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
		c.media.SetRemote(ans.Negotiated)
		res := sip.NewResponseFromRequest(req, 200, "OK", ans.Marshal(s.contactIP, c.media.Port()))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(sip.HeaderClone(&s.dua.ContactHDR))
		tx.Respond(res)
	default:
		s.respond(tx, req, 405, "Method Not Allowed", sip.NewHeader("Allow", allowedMethods))
	}
}
