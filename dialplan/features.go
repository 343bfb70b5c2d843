package dialplan

import (
	"context"
	"strings"

	"deskpbx/diag"
	"deskpbx/pbx"
	"deskpbx/store"
)

// Feature codes deskpbx answers itself.
const (
	EchoTestCode      = "*43"
	DTMFTestCode      = "*44"
	HotdeskLoginCode  = "*072" // as in FusionPBX
	HotdeskLogoutCode = "*073"
	VoicemailCode     = "*97" // as in FusionPBX and FreePBX
	VoicemailAskCode  = "*98"
	// PickupCode alone picks up any call ringing for an extension of the
	// caller's tenant (the tenant is the pickup group, for now); followed
	// by an extension, a call ringing for that extension, wherever it
	// rings.
	PickupCode = "*8"
)

type featureCode struct {
	code string
	what string
	run  pbx.Feature // nil when the office does not offer it
	// priority: the call may take the RTP ports kept in reserve, so that
	// logging in or out works even when other calls fill the range.
	priority bool
}

// featureCodes is every feature code, in one table. To add one: a
// constant above, a row here, and the feature itself in its own package
// taking the small interface of pbx.FeatureCall it needs (see diag.Call).
func (p *Plan) featureCodes() []featureCode {
	return []featureCode{
		{EchoTestCode, "echo test: your own voice back", func(ctx context.Context, fc *pbx.FeatureCall) {
			diag.EchoTest(ctx, fc)
		}, false},
		{DTMFTestCode, "DTMF test: keys read back with how they were sent", func(ctx context.Context, fc *pbx.FeatureCall) {
			diag.DTMFTest(ctx, fc, fc.Log)
		}, false},
		{HotdeskLoginCode, "hot-desk login at this phone", p.withHotdesk(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.hotdesk.LoginFlow(ctx, fc, fc.Caller, fc.Source)
		}), true},
		{HotdeskLogoutCode, "hot-desk logout", p.withHotdesk(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.hotdesk.LogoutFlow(ctx, fc, fc.Caller, fc.Source)
		}), true},
		{VoicemailCode, "voicemail of whoever this phone is now (the person hot-desked here, else the phone's own)", p.withVoicemail(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.voicemail.Listen(ctx, fc, fc.Identity, fc.Caller, fc.Source)
		}), false},
		{VoicemailAskCode, "voicemail of a mailbox number asked for", p.withVoicemail(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.voicemail.ListenAsk(ctx, fc, fc.Identity, fc.Caller, fc.Source)
		}), false},
		// Not a call of our own: pbx connects the caller to a ringing
		// call instead (pickupRoute).
		{PickupCode, "call pickup: *8 any call ringing in your tenant, *8 + extension one ringing for it", nil, false},
	}
}

// withVoicemail offers f only in an office with mailboxes.
func (p *Plan) withVoicemail(f pbx.Feature) pbx.Feature {
	if p.voicemail == nil {
		return nil
	}
	return f
}

// pickupRoute routes *8 and *8 + extension to pbx's pickup of a ringing
// call; false for any other number. The extension is looked up in the
// caller's identity's tenant, like any number it dials.
func (p *Plan) pickupRoute(ctx context.Context, route *pbx.Route, dialled string) bool {
	number, ok := strings.CutPrefix(dialled, PickupCode)
	if !ok {
		return false
	}
	pk := &pbx.Pickup{TenantID: route.Identity.TenantID}
	if number != "" {
		callee, err := p.db.ExtensionByNumber(ctx, route.Identity.TenantID, number)
		switch {
		case store.ErrorCode(err) == store.ENOTFOUND:
			route.Reject = &pbx.Rejection{Code: 404, Reason: "pickup of an unknown number"}
			return true
		case err != nil:
			route.Reject = &pbx.Rejection{Code: 500, Reason: "pickup callee lookup", Err: err}
			return true
		}
		pk.Callee = callee
	}
	route.Pickup = pk
	return true
}

// withHotdesk offers f only in an office with hot desking.
func (p *Plan) withHotdesk(f pbx.Feature) pbx.Feature {
	if p.hotdesk == nil {
		return nil
	}
	return f
}
