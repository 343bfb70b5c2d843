package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"strconv"
	"time"

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

// mailboxFlags are the office-wide mailbox sizes, for offices whose
// people keep more messages, or whose storage is small.
type mailboxFlags struct {
	limit  int
	maxLen time.Duration
}

func (m *mailboxFlags) add(fs *flag.FlagSet) error {
	limit, err := strconv.Atoi(envOr("DESKPBX_VOICEMAIL_LIMIT", strconv.Itoa(voicemail.DefaultLimit)))
	if err != nil {
		return usagef("DESKPBX_VOICEMAIL_LIMIT: want a number of messages, got %q", os.Getenv("DESKPBX_VOICEMAIL_LIMIT"))
	}
	maxLen, err := time.ParseDuration(envOr("DESKPBX_VOICEMAIL_MAX_LENGTH", voicemail.DefaultMaxLen.String()))
	if err != nil {
		return usagef("DESKPBX_VOICEMAIL_MAX_LENGTH: want a duration such as 3m, got %q", os.Getenv("DESKPBX_VOICEMAIL_MAX_LENGTH"))
	}
	fs.IntVar(&m.limit, "voicemail-limit", limit, "messages a mailbox holds; a full one tells callers so (DESKPBX_VOICEMAIL_LIMIT)")
	fs.DurationVar(&m.maxLen, "voicemail-max-length", maxLen, "longest message a caller may leave (DESKPBX_VOICEMAIL_MAX_LENGTH)")
	return nil
}

// Bounds a mistyped value cannot get past: a mailbox that takes nothing,
// or a recording held in memory for hours.
const (
	maxMailboxLimit = 10000
	minMessageLen   = 10 * time.Second
	maxMessageLen   = time.Hour
)

func (m *mailboxFlags) check() error {
	if m.limit < 1 || m.limit > maxMailboxLimit {
		return usagef("voicemail-limit %d: want 1 to %d messages", m.limit, maxMailboxLimit)
	}
	if m.maxLen < minMessageLen || m.maxLen > maxMessageLen {
		return usagef("voicemail-max-length %v: want %v to %v", m.maxLen, minMessageLen, maxMessageLen)
	}
	return nil
}
