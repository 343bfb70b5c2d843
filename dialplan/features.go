package dialplan

import (
	"context"

	"deskpbx/diag"
	"deskpbx/pbx"
)

// Feature codes deskpbx answers itself.
const (
	EchoTestCode      = "*43"
	DTMFTestCode      = "*44"
	HotdeskLoginCode  = "*072" // as in FusionPBX
	HotdeskLogoutCode = "*073"
	VoicemailCode     = "*97" // as in FusionPBX and FreePBX
	VoicemailAskCode  = "*98"
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
	}
}

// withVoicemail offers f only in an office with mailboxes.
func (p *Plan) withVoicemail(f pbx.Feature) pbx.Feature {
	if p.voicemail == nil {
		return nil
	}
	return f
}

// withHotdesk offers f only in an office with hot desking.
func (p *Plan) withHotdesk(f pbx.Feature) pbx.Feature {
	if p.hotdesk == nil {
		return nil
	}
	return f
}
