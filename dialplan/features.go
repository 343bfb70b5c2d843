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
)

type featureCode struct {
	code string
	what string
	run  pbx.Feature // nil when the office does not offer it
}

// featureCodes is every feature code, in one table. To add one: a
// constant above, a row here, and the feature itself in its own package
// taking the small interface of pbx.FeatureCall it needs (see diag.Call).
func (p *Plan) featureCodes() []featureCode {
	return []featureCode{
		{EchoTestCode, "echo test: your own voice back", func(ctx context.Context, fc *pbx.FeatureCall) {
			diag.EchoTest(ctx, fc)
		}},
		{DTMFTestCode, "DTMF test: keys read back with how they were sent", func(ctx context.Context, fc *pbx.FeatureCall) {
			diag.DTMFTest(ctx, fc, fc.Log)
		}},
		{HotdeskLoginCode, "hot-desk login at this phone", p.withHotdesk(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.hotdesk.LoginFlow(ctx, fc, fc.Caller, fc.Source)
		})},
		{HotdeskLogoutCode, "hot-desk logout", p.withHotdesk(func(ctx context.Context, fc *pbx.FeatureCall) {
			p.hotdesk.LogoutFlow(ctx, fc, fc.Caller, fc.Source)
		})},
	}
}

// withHotdesk offers f only in an office with hot desking.
func (p *Plan) withHotdesk(f pbx.Feature) pbx.Feature {
	if p.hotdesk == nil {
		return nil
	}
	return f
}
