package main

import (
	"context"
	"log/slog"

	"deskpbx/pbx"
	"deskpbx/store"
)

// startAdmin starts the admin web page on cfg.httpAddr and returns its
// shutdown. (Being written: the admin package.)
func startAdmin(ctx context.Context, cfg *serveConfig, db *store.DB, srv *pbx.Server, log *slog.Logger) (func(context.Context) error, error) {
	return func(context.Context) error { return nil }, nil
}
