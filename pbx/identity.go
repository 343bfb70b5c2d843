package pbx

import (
	"context"

	"deskpbx/store"
)

// Seating answers who sits where, for hot desking: pbx asks it on every
// call, so a login or logout changes routing and caller ID at once.
type Seating interface {
	// PersonAt returns the extension seated at the phone registered as
	// device, if anyone.
	PersonAt(ctx context.Context, device *store.Extension) (*store.Extension, bool)
	// SeatOf returns the phone extension a person is seated at, if any.
	SeatOf(ctx context.Context, person *store.Extension) (*store.Extension, bool)
}

// SetSeating installs the hot-desk seating; nil means nobody hot-desks.
func (s *Server) SetSeating(seating Seating) { s.seating = seating }

// identityOf is who a call from the phone registered as caller is made
// as: the person seated there, else the phone's own extension.
func (s *Server) identityOf(caller *store.Extension) *store.Extension {
	if s.seating != nil {
		if p, ok := s.seating.PersonAt(s.ctx, caller); ok {
			return p
		}
	}
	return caller
}

// ringTarget is the extension whose bindings ring for calls to callee:
// the phone the callee is seated at, else the callee's own.
func (s *Server) ringTarget(callee *store.Extension) *store.Extension {
	if s.seating != nil {
		if d, ok := s.seating.SeatOf(s.ctx, callee); ok {
			return d
		}
	}
	return callee
}
