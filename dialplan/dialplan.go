// Package dialplan is deskpbx's routing policy: once per INVITE it says
// who is calling as whom, and where the call goes (a person's phones, a
// feature, or nowhere). pbx asks it through pbx.DialPlan and carries the
// answer out; the features it names reach their call only through the
// IVR surface pbx.FeatureCall provides, declared again by each feature
// package as the small interface it needs (diag.Call, hotdesk.Call).
package dialplan

import (
	"context"

	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// Plan is the office's dial plan.
type Plan struct {
	db        *store.DB
	hotdesk   *hotdesk.Service   // nil: nobody hot-desks
	voicemail *voicemail.Service // nil: no mailboxes
	features  map[string]pbx.FeatureRoute

	notifyEmergency func(EmergencyCall) // outside.go
}

// New is the dial plan of the extensions in db, with hot desking run by
// hd (nil for none: calls are made as, and ring, the phones themselves).
func New(db *store.DB, hd *hotdesk.Service) *Plan {
	p := &Plan{db: db, hotdesk: hd}
	p.buildFeatures()
	return p
}

// WithVoicemail gives the office mailboxes: *97/*98, and calls nobody
// answers go to the called person's mailbox.
func (p *Plan) WithVoicemail(vm *voicemail.Service) *Plan {
	p.voicemail = vm
	p.buildFeatures()
	return p
}

func (p *Plan) buildFeatures() {
	p.features = make(map[string]pbx.FeatureRoute)
	for _, f := range p.featureCodes() {
		if f.run != nil {
			p.features[f.code] = pbx.FeatureRoute{Name: f.code, Run: f.run, Priority: f.priority}
		}
	}
}

// Route answers pbx's question for one new call.
func (p *Plan) Route(ctx context.Context, req *pbx.CallRequest) pbx.Route {
	if route, ok := p.emergencyRoute(ctx, req); ok {
		return route
	}
	route := pbx.Route{Identity: p.CallsAs(ctx, req.Caller)}
	if f, ok := p.features[req.Dialled]; ok {
		route.Feature = &f
		return route
	}
	if p.pickupRoute(ctx, &route, req.Dialled) {
		return route
	}
	// The tenant of the identity, not of the phone: a person hot-desking
	// at another tenant's phone dials their own colleagues.
	callee, err := p.db.ExtensionByNumber(ctx, route.Identity.TenantID, req.Dialled)
	switch {
	case store.ErrorCode(err) == store.ENOTFOUND:
		if out, ok := p.outsideRoute(ctx, req, route.Identity); ok {
			return out
		}
		route.Reject = &pbx.Rejection{Code: 404, Reason: "unknown number"}
	case err != nil:
		route.Reject = &pbx.Rejection{Code: 500, Reason: "callee lookup", Err: err}
	default:
		route.Ring = p.ringPerson(ctx, callee)
	}
	return route
}

// CallsAs is who a call from the phone registered as phone is made as:
// the person hot-desked there, else the phone's own extension. Asked on
// every call, so a login or logout changes caller ID at once.
func (p *Plan) CallsAs(ctx context.Context, phone *store.Extension) *store.Extension {
	if p.hotdesk != nil {
		if person, ok := p.hotdesk.PersonAt(ctx, phone); ok {
			return person
		}
	}
	return phone
}

// RingTarget is where a person's calls ring: the extension whose
// registered phones are called for them. It is the seat they are
// hot-desked at (or an admin's dial-string override, which hotdesk
// answers as the seat), else their own extension.
func (p *Plan) RingTarget(ctx context.Context, person *store.Extension) *store.Extension {
	if p.hotdesk != nil {
		if seat, ok := p.hotdesk.RingTarget(ctx, person); ok {
			return seat
		}
	}
	return person
}
