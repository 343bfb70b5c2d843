package main

import (
	"context"
	"log/slog"
	"strings"

	"deskpbx/hotdesk"
	"deskpbx/internal/lamps"
	"deskpbx/mwi"
	"deskpbx/pbx"
	"deskpbx/presence"
	"deskpbx/store"
)

// wireLamps serves busy lamps (dialog, presence) and, with mailboxes,
// message-waiting lights that follow the person: a seat's light switches
// to the hot-desker's mailbox on login and back on logout. Call it before
// srv.Start. The lights it returns are told when a mailbox changes.
func wireLamps(ctx context.Context, db *store.DB, srv *pbx.Server, hd *hotdesk.Service, mailboxes mwi.Mailboxes, log *slog.Logger) *mwi.Lights {
	var lights *mwi.Lights
	if mailboxes != nil {
		lights = &mwi.Lights{Dir: db, Mailboxes: mailboxes, Seating: hd}
	}
	lamps.Wire(srv, presence.NewTracker(db), lights)
	if lights == nil {
		return nil
	}
	hd.OnSession(func(e hotdesk.SessionEvent) {
		// NOTIFYs to a phone that does not answer take up to 32 s: never
		// on the goroutine of the login.
		for _, aor := range []string{e.Seat, e.MovedFrom} {
			if aor == "" {
				continue
			}
			go func() {
				number, domain, _ := strings.Cut(aor, "@")
				seat, err := db.LookupExtension(context.WithoutCancel(ctx), domain, number)
				if err != nil {
					log.Warn("message light of a seat", "seat", aor, "err", err)
					return
				}
				lights.SeatChanged(ctx, seat)
			}()
		}
	})
	return lights
}
