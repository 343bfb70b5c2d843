package pbx

import (
	"context"

	"deskpbx/store"
)

// CallState is where a call stands for one of its parties, in the terms
// of RFC 4235's dialog states.
type CallState int

const (
	CallEarly      CallState = iota + 1 // ringing
	CallConfirmed                       // answered
	CallTerminated                      // over, answered or not
)

// CallEvent is a change in a call as one person sees it. Identity is the
// person (the one a call is made as, or the one called), never the phone
// that carries them: a hot-desker's calls are theirs, not the seat's.
type CallEvent struct {
	CallID   string
	Identity *store.Extension
	Peer     *store.Extension
	Outgoing bool // Identity placed the call
	State    CallState
}

// CallObserver learns of every call's state changes, once per party. It
// is called on the call's own goroutine and must not block.
type CallObserver interface {
	CallState(ctx context.Context, ev CallEvent)
}

// SetCallObserver installs o; call it before Start.
func (s *Server) SetCallObserver(o CallObserver) { s.observer = o }

// observeCall reports c's new state for its caller's identity and its
// callee; an outside party of a trunk call (no extension of ours: ID 0)
// has no lamp and is left out.
func (s *Server) observeCall(c *call, state CallState) {
	if s.observer == nil || c.callee == nil {
		return
	}
	id := c.a.InviteRequest.CallID().Value()
	if c.identity.ID != 0 {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: c.identity, Peer: c.callee, Outgoing: true, State: state})
	}
	if c.callee.ID != 0 {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: c.callee, Peer: c.identity, State: state})
	}
}
