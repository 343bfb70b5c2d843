package pbx

import (
	"context"
	"time"

	"deskpbx/store"
)

// DialPlan decides, once per INVITE, as whom a call is made and where it
// goes. pbx asks it after authenticating the caller and carries the
// answer out; it knows nothing of the policy behind it (features, hot
// desking, mailboxes). cmd wires one in with SetDialPlan.
type DialPlan interface {
	Route(ctx context.Context, req *CallRequest) Route
}

// CallRequest is what pbx knows of a new call when it asks the dial plan.
type CallRequest struct {
	Caller  *store.Extension // the phone that authenticated the INVITE (or sent a REFER: a transfer is routed as its transferor)
	Dialled string           // the user part of the Request-URI
	Source  string           // host:port the INVITE came from
}

// Route is the dial plan's answer: Identity, and exactly one of Ring,
// Feature, Pickup, Reject or Outside.
type Route struct {
	// Identity is who the call is made as: its caller ID (From) and the
	// tenant whose numbers it dials.
	Identity *store.Extension

	Ring    *Ring         // ring a person's phones
	Feature *FeatureRoute // answer with our own media and run a feature
	Reject  *Rejection    // refuse the call
	Pickup  *Pickup       // answer a call ringing for someone else
	Outside *OutsideRoute // send it out through a trunk (trunk.go)
}

// Pickup takes a call that rings for Callee (directed pickup), or for
// anyone of the tenant TenantID when Callee is nil (group pickup): the
// caller talks to the phone that dialled, and the ringing phones stop.
type Pickup struct {
	Callee   *store.Extension // whose ringing call; nil for any of the tenant's
	TenantID int64
}

// Ring sends a call to the registered phones of Target.
type Ring struct {
	Callee *store.Extension // who was dialled: To header and call list
	Target *store.Extension // whose registered phones ring (the callee's ring target)
	// NoAnswer, if set, answers the caller with our own media when no
	// phone answered (timeout, busy, declined), e.g. for voicemail. Nil
	// passes the phones' final status on (480, 486, ...).
	NoAnswer *FeatureRoute
	// Timeout is how long the phones ring; 0: the server's RingTimeout.
	Timeout time.Duration
}

// FeatureRoute is a call the PBX answers itself.
type FeatureRoute struct {
	Name string // for logs and the call list, e.g. the feature code "*43"
	Run  Feature
	// Priority lets the call take an RTP port of the reserve kept for
	// what must work when the range is nearly full (hot-desk login and
	// logout): the dial plan decides which features have it.
	Priority bool
	// Refuse, if set, makes the feature a refusal that explains itself:
	// the call is never answered; Run's media goes to the caller as early
	// media (183 with our SDP), then the caller gets this final status
	// (e.g. 403). A caller who hangs up during it gets 487.
	Refuse int
}

// Rejection is the final response to a call that goes nowhere.
type Rejection struct {
	Code   int    // e.g. 404
	Reason string // what the log says, e.g. "unknown number"
	Err    error  // set when the dial plan itself failed (logged as an error)
}

// SetDialPlan installs the dial plan; call it before Start.
func (s *Server) SetDialPlan(p DialPlan) { s.dialPlan = p }
