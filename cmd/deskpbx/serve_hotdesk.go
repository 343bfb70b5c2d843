package main

import (
	"context"
	"log/slog"

	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
)

// Hot-desk feature codes, as in FusionPBX.
const (
	hotdeskLoginCode  = "*072"
	hotdeskLogoutCode = "*073"
)

// wireHotDesk makes hot desking part of call routing: pbx asks the
// service who sits where on every call, and *072/*073 run its voice
// flows at the calling phone. Auto-logout runs until ctx ends.
func wireHotDesk(ctx context.Context, db *store.DB, srv *pbx.Server, log *slog.Logger) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	srv.SetSeating(hd)
	srv.HandleFeature(hotdeskLoginCode, func(ctx context.Context, fc *pbx.FeatureCall) {
		hd.LoginFlow(ctx, fc, fc.Caller, fc.Source)
	})
	srv.HandleFeature(hotdeskLogoutCode, func(ctx context.Context, fc *pbx.FeatureCall) {
		hd.LogoutFlow(ctx, fc, fc.Caller, fc.Source)
	})
	go hd.RunAutoLogout(ctx)
	return hd
}
