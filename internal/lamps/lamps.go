// Package lamps plugs the busy-lamp and message-waiting event packages
// into pbx's subscriptions. It is the one place that knows pbx and those
// packages (which must not import each other), shared by the binary and
// by the tests that run them with real phones.
package lamps

import (
	"context"

	"deskpbx/mwi"
	"deskpbx/pbx"
	"deskpbx/presence"
)

// Wire serves dialog and presence subscriptions from t, fed with srv's
// calls, and message-summary subscriptions from l (either may be nil).
// Call it before srv.Start.
func Wire(srv *pbx.Server, t *presence.Tracker, l *mwi.Lights) {
	if t != nil {
		t.Changed = srv.Notify
		srv.HandleEvent(presence.DialogEvent, t.Dialog())
		srv.HandleEvent(presence.PresenceEvent, t.Presence())
		srv.SetCallObserver(callStates{t})
	}
	if l != nil {
		l.Notify = srv.Notify
		l.Unsolicited = srv.NotifyUnsolicited
		srv.HandleEvent(mwi.Event, l)
		// A phone that does not subscribe learns its light when it
		// boots, not only at its mailbox's next change: after a power
		// cut, every such light would stay dark until then.
		srv.OnContactAdded(l.SeatChanged)
	}
}

// callStates turns pbx's call events into the tracker's.
type callStates struct{ t *presence.Tracker }

func (c callStates) CallState(ctx context.Context, ev pbx.CallEvent) {
	c.t.Update(ctx, presence.Call{ID: ev.CallID, Identity: ev.Identity, Peer: ev.Peer,
		Outgoing: ev.Outgoing, State: presence.State(ev.State)})
}

// The packages are pbx plug-ins by their method sets alone.
var (
	_ pbx.EventPackage = presence.DialogPackage{}
	_ pbx.EventPackage = presence.PresencePackage{}
	_ pbx.EventPackage = (*mwi.Lights)(nil)
)
