package main

import (
	"context"
	"log/slog"

	"deskpbx/store"
	"deskpbx/webhook"
)

// voicemailEvents is voicemail's OnNewMessage: each message deposited
// becomes a voicemail.new event for the mailbox's tenant. Only deposits:
// a message heard or deleted is no news to a CRM.
func voicemailEvents(ctx context.Context, wh *webhook.Service, log *slog.Logger) func(*store.Extension, store.VoicemailMessage) {
	return func(box *store.Extension, m store.VoicemailMessage) {
		emit(ctx, wh, box.TenantID, webhook.VoicemailNew, webhook.VoicemailMessage{
			Mailbox:  webhook.PartyOf(box),
			Caller:   webhook.Party{Number: m.CallerNumber, Name: m.CallerName},
			At:       m.At.UTC(),
			Duration: m.Duration.Seconds(),
		}, log)
	}
}
