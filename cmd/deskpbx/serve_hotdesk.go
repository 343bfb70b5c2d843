package main

import (
	"context"
	"log/slog"

	"deskpbx/hotdesk"
	"deskpbx/internal/hotdeskcalls"
	"deskpbx/pbx"
	"deskpbx/store"
)

// wireHotDesk makes hot desking part of call routing (see hotdeskcalls)
// and runs auto-logout until ctx ends.
func wireHotDesk(ctx context.Context, db *store.DB, srv *pbx.Server, log *slog.Logger) *hotdesk.Service {
	hd := hotdesk.New(db, log)
	hotdeskcalls.Wire(srv, hd)
	go hd.RunAutoLogout(ctx)
	return hd
}
