package pbx

import (
	"context"
	"slices"

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
// callee, unless a transfer took them out of the call, and at its end
// for the colleagues transfers joined to it; an outside party of a trunk
// call (no extension of ours: ID 0) has no lamp and is left out.
func (s *Server) observeCall(c *call, state CallState) {
	if s.observer == nil || c.callee == nil {
		return
	}
	id := c.a.InviteRequest.CallID().Value()
	c.mu.Lock()
	left := c.leftLamps
	var joined []*store.Extension
	if state == CallTerminated {
		joined = append(joined, c.joinedLamps...)
	}
	c.mu.Unlock()
	if c.identity.ID != 0 && !left[c.identity.ID] {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: c.identity, Peer: c.callee, Outgoing: true, State: state})
	}
	if c.callee.ID != 0 && !left[c.callee.ID] {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: c.callee, Peer: c.identity, State: state})
	}
	for _, p := range joined {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: p, Peer: c.identity, State: state})
	}
}

// observeTransfer moves the lamps of a transfer done: the transferor's
// goes off at once (its phone is free again, however long the others
// talk), and a colleague it joined (to, if not outside) lights until the
// call ends; rest is who they talk to.
func (s *Server) observeTransfer(c *call, from, rest *party, to *store.Extension) {
	if s.observer == nil || c.callee == nil {
		return
	}
	c.mu.Lock()
	if from.person.ID != 0 {
		// Copied on write: observeCall reads the map it got unlocked.
		left := map[int64]bool{from.person.ID: true}
		for k := range c.leftLamps {
			left[k] = true
		}
		c.leftLamps = left
		c.joinedLamps = slices.DeleteFunc(slices.Clone(c.joinedLamps), func(e *store.Extension) bool { return e.ID == from.person.ID })
	}
	if to != nil && to.ID != 0 {
		c.joinedLamps = append(c.joinedLamps, to)
	}
	c.mu.Unlock()
	id := c.a.InviteRequest.CallID().Value()
	var peer *store.Extension
	if rest != nil { // nil: hung up just now
		peer = rest.person
	}
	if from.person.ID != 0 {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: from.person, Peer: peer, State: CallTerminated})
	}
	if to != nil && to.ID != 0 {
		s.observer.CallState(s.ctx, CallEvent{CallID: id, Identity: to, Peer: peer, State: CallConfirmed})
	}
}
