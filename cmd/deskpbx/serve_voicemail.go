package main

import (
	"context"
	"log/slog"

	"deskpbx/store"
	"deskpbx/voicemail"
	"deskpbx/webhook"
)

// wireVoicemailNews tells of each message deposited: a voicemail.new
// webhook event, and a look at the mail outbox (the database queued the
// mail with the message). stop ends the mailer and waits for it, so the
// database outlives it.
func wireVoicemailNews(ctx context.Context, vm *voicemail.Service, wh *webhook.Service, log *slog.Logger) (stop func()) {
	mailer := voicemail.NewMailer(vm)
	events := voicemailEvents(ctx, wh, log)
	vm.OnNewMessage = func(box *store.Extension, m store.VoicemailMessage) {
		events(box, m)
		mailer.Kick()
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); mailer.Run(runCtx) }()
	return func() { cancel(); <-done }
}

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
