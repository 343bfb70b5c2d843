// Package hotdeskcalls makes hot desking part of call routing. It is the
// one place that knows both pbx and hotdesk (which must not import each
// other), shared by the binary and by tests that run a whole office.
package hotdeskcalls

import (
	"context"

	"deskpbx/hotdesk"
	"deskpbx/pbx"
)

// Hot-desk feature codes, as in FusionPBX.
const (
	LoginCode  = "*072"
	LogoutCode = "*073"
)

// Wire has srv ask hd who sits where on every call, and run hd's voice
// flows for *072 and *073 at the calling phone. Call it before srv.Start.
func Wire(srv *pbx.Server, hd *hotdesk.Service) {
	srv.SetSeating(hd)
	srv.HandleFeature(LoginCode, func(ctx context.Context, fc *pbx.FeatureCall) {
		hd.LoginFlow(ctx, fc, fc.Caller, fc.Source)
	})
	srv.HandleFeature(LogoutCode, func(ctx context.Context, fc *pbx.FeatureCall) {
		hd.LogoutFlow(ctx, fc, fc.Caller, fc.Source)
	})
}
