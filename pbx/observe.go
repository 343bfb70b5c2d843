package pbx

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// Metrics counts what the PBX sees. *metrics.Metrics satisfies it; cmd
// sets one with SetMetrics, and until then nothing is counted.
type Metrics interface {
	// SIPRequest counts a request received, by method.
	SIPRequest(method string)
	// SIPResponse counts a response we sent, by the method it answers.
	SIPResponse(method string, code int)
	// RTP adds the media counts of one call of ours when it ends.
	RTP(sent, late, lost uint64)
	// CallEnded counts a call by its outcome (the Outcome constants).
	CallEnded(outcome string)
}

// How a call ended, from the callee's side: a call the PBX answered with
// voicemail after nobody picked up is OutcomeNoAnswer (or OutcomeBusy).
const (
	OutcomeAnswered  = "answered"
	OutcomeBusy      = "busy"
	OutcomeNoAnswer  = "no_answer"
	OutcomeCancelled = "cancelled"
	OutcomeFailed    = "failed"
)

// CallEnd describes a call that just ended, for events such as a missed
// call.
type CallEnd struct {
	CallID   string
	Caller   *store.Extension // the phone that placed the call
	Identity *store.Extension // who the call was made as (caller ID)
	Callee   *store.Extension // the person dialled; nil for features and refused calls
	Outcome  string
	Started  time.Time // the INVITE came in
	Answered time.Time // zero unless a phone or the PBX itself answered
	Ended    time.Time
	// Direction says whether the call came in from a trunk or went out
	// through one. On a call in, Caller and Identity are the outside
	// caller (no extension of ours: ID 0, the trunk's host as domain);
	// on a call out, Callee is the outside number.
	Direction string
}

// Directions of a call (CallEnd.Direction).
const (
	DirectionInternal = ""    // between the office's own phones
	DirectionIn       = "in"  // from a provider to one of the office's numbers
	DirectionOut      = "out" // from the office out through a trunk
)

// Missed says whether the callee should hear of the call: someone rang
// and nobody took it. An outside number we called is nobody's to tell.
func (e CallEnd) Missed() bool {
	return e.Callee != nil && e.Direction != DirectionOut &&
		(e.Outcome == OutcomeNoAnswer || e.Outcome == OutcomeBusy || e.Outcome == OutcomeCancelled)
}

// SetMetrics installs the counters; call it before Start.
func (s *Server) SetMetrics(m Metrics) {
	if m != nil {
		s.metrics = m
	}
}

// OnCallEnded adds f to the observers called, in order on the call's own
// goroutine, as each call ends; call it before Start. f should return
// quickly.
func (s *Server) OnCallEnded(f func(CallEnd)) { s.onCallEnded = append(s.onCallEnded, f) }

// OnContactAdded adds f to the observers called, on a goroutine of their
// own, after a REGISTER that added a contact to ext (a phone that booted,
// moved or registered for the first time; not a refresh) is answered;
// call it before Start. A phone that does not subscribe to its message
// light learns it this way after a power cut.
func (s *Server) OnContactAdded(f func(ctx context.Context, ext *store.Extension)) {
	s.onContactAdded = append(s.onContactAdded, f)
}

func (s *Server) contactAdded(ext *store.Extension) {
	for _, f := range s.onContactAdded {
		f(s.ctx, ext)
	}
}

type noMetrics struct{}

func (noMetrics) SIPRequest(string)          {}
func (noMetrics) SIPResponse(string, int)    {}
func (noMetrics) RTP(uint64, uint64, uint64) {}
func (noMetrics) CallEnded(string)           {}

// callEnded counts a call's outcome and tells whoever listens; c is nil
// for a call refused before it was opened.
func (s *Server) callEnded(nc newCall, c *call, callee *store.Extension, outcome string) {
	s.metrics.CallEnded(outcome)
	if len(s.onCallEnded) == 0 {
		return
	}
	var answered time.Time
	if c != nil {
		c.mu.Lock()
		answered = c.answered
		c.mu.Unlock()
	}
	e := CallEnd{CallID: nc.req.CallID().Value(), Caller: nc.caller, Identity: nc.identity,
		Callee: callee, Outcome: outcome, Started: nc.started, Answered: answered, Ended: s.db.Now(), Direction: nc.direction}
	for _, f := range s.onCallEnded {
		f(e)
	}
}

// ringOutcome is how a call that rang phones (or was refused with final)
// ended.
func ringOutcome(answered bool, final int) string {
	switch {
	case answered:
		return OutcomeAnswered
	case final == 0:
		return OutcomeCancelled // the caller gave up
	case final == 486 || final == 600 || final == 603:
		return OutcomeBusy
	case final == 480 || final == 408:
		return OutcomeNoAnswer
	}
	return OutcomeFailed
}

// featureOutcome is how a call the PBX answered itself ended: c is nil
// when the call could not even be opened.
func (c *call) featureOutcome() string {
	if c == nil {
		return OutcomeFailed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered.IsZero() {
		return OutcomeFailed
	}
	return OutcomeAnswered
}

// observed counts req and wraps tx so that every response sent through
// it, by us or by sipgo's dialog on our behalf, is counted too.
func (s *Server) observed(req *sip.Request, tx sip.ServerTransaction) sip.ServerTransaction {
	s.metrics.SIPRequest(string(req.Method))
	return &countedTx{ServerTransaction: tx, method: string(req.Method), m: s.metrics}
}

// counted counts the requests of a method we never answer (ACK).
func (s *Server) counted(h func(*sip.Request, sip.ServerTransaction)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.metrics.SIPRequest(string(req.Method))
		h(req, tx)
	}
}

type countedTx struct {
	sip.ServerTransaction
	method string
	m      Metrics
}

func (t *countedTx) Respond(res *sip.Response) error {
	err := t.ServerTransaction.Respond(res)
	if err == nil {
		t.m.SIPResponse(t.method, res.StatusCode)
	}
	return err
}

// Connection keeps replyStateless writing on the request's connection.
func (t *countedTx) Connection() sip.Connection {
	if c, ok := t.ServerTransaction.(interface{ Connection() sip.Connection }); ok {
		return c.Connection()
	}
	return nil
}

// countStateless counts a reply written outside the transaction.
func (s *Server) countStateless(res *sip.Response) {
	if cseq := res.CSeq(); cseq != nil {
		s.metrics.SIPResponse(string(cseq.MethodName), res.StatusCode)
	}
}
