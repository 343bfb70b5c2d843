package pbx

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sort"
	"time"
)

// CallInfo describes one active call for the admin page.
type CallInfo struct {
	// ID is an opaque handle of this call, for Hangup. Not the Call-ID:
	// a caller chooses that, and could copy another tenant's.
	ID       string
	CallID   string // the caller's Call-ID
	Caller   string // AOR of the phone that placed the call
	As       string // AOR the call is made as (differs when hot-desking)
	Callee   string // AOR called
	Started  time.Time
	Answered time.Time // zero while ringing
}

// ActiveCalls lists calls in progress, oldest first.
func (s *Server) ActiveCalls() []CallInfo {
	var out []CallInfo
	for _, c := range s.calls.snapshot() {
		c.mu.Lock()
		if c.handle == "" {
			c.handle = newCallHandle()
		}
		info := CallInfo{ID: c.handle, CallID: c.a.InviteRequest.CallID().Value(), Caller: c.caller.AOR(), As: c.identity.AOR(),
			Callee: c.feature, Started: c.started, Answered: c.answered}
		if c.callee != nil {
			info.Callee = c.callee.AOR()
		}
		ended := c.ended
		c.mu.Unlock()
		if !ended {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.Before(out[j].Started) })
	return out
}

// Hangup ends the call whose CallInfo.ID is id from the PBX side; false
// when there is no such call.
func (s *Server) Hangup(ctx context.Context, id string) bool {
	if id == "" {
		return false
	}
	for _, c := range s.calls.snapshot() {
		c.mu.Lock()
		match := c.handle == id
		c.mu.Unlock()
		if match {
			c.hangup(ctx)
			return true
		}
	}
	return false
}

// newCallHandle is 128 random bits: unique, and not guessable from
// another call's.
func newCallHandle() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
