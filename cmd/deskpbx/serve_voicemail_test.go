package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskpbx/store"
	"deskpbx/voicemail"
	"deskpbx/webhook"
)

func toneSecs(secs float64) []int16 {
	out := make([]int16, int(secs*8000))
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	return out
}

// A message left for Grace reaches acme's CRM as voicemail.new with the
// caller, mailbox, time and duration; hearing and deleting it are no
// events: the next POST is the next message.
func TestVoicemailDepositIsAWebhookEvent(t *testing.T) {
	dbPath := acmeOffice(t)
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bodies := make(chan []byte, 8)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer crm.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := webhook.Add(ctx, db, "acme.example", crm.URL); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	wh := webhook.New(db, log)
	vm, err := voicemail.New(ctx, db, filepath.Join(t.TempDir(), "vm"), log)
	if err != nil {
		t.Fatal(err)
	}
	stopMail := wireVoicemailNews(ctx, vm, wh, log) // as serve wires it
	defer stopMail()
	acme, err := db.TenantByDomain(ctx, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	grace, err := db.ExtensionByNumber(ctx, acme.ID, "1002")
	if err != nil {
		t.Fatal(err)
	}
	m, err := vm.Deposit(ctx, grace, voicemail.Caller{Number: "1001", Name: "Ada Lovelace"}, toneSecs(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Save(ctx, grace, m); err != nil {
		t.Fatal(err)
	}
	if err := vm.Delete(ctx, grace, m); err != nil {
		t.Fatal(err)
	}
	if _, err := vm.Deposit(ctx, grace, voicemail.Caller{Number: "555"}, toneSecs(1.5)); err != nil {
		t.Fatal(err)
	}
	// Two deposits, a save and a delete: two events in the outbox.
	if due, err := db.DueWebhookDeliveries(ctx, 10); err != nil || len(due) != 2 {
		t.Fatalf("%d events queued (%v), want 2: saving and deleting are no events", len(due), err)
	}
	go wh.Run(ctx)

	byCaller := map[string]webhook.VoicemailMessage{}
	for range 2 {
		var b []byte
		select {
		case b = <-bodies:
		case <-ctx.Done():
			t.Fatal("no webhook POST")
		}
		var env webhook.Envelope
		var data webhook.VoicemailMessage
		if err := json.Unmarshal(b, &env); err != nil || json.Unmarshal(env.Data, &data) != nil {
			t.Fatalf("body %s: %v", b, err)
		}
		if env.Event != webhook.VoicemailNew || env.Tenant != "acme.example" || data.Mailbox.Number != "1002" {
			t.Errorf("event %+v %+v; want voicemail.new for Grace's mailbox", env, data)
		}
		byCaller[data.Caller.Number] = data
	}
	if d := byCaller["1001"]; d.Caller.Name != "Ada Lovelace" || d.Duration != 2 || !d.At.Equal(m.At) {
		t.Errorf("Ada's message: %+v; want 2 s at %v", d, m.At)
	}
	if d := byCaller["555"]; d.Duration != 1.5 {
		t.Errorf("555's message: %+v; want 1.5 s", d)
	}
}

// mailboxOff turns voicemail off for acme.example's extension number.
func mailboxOff(t *testing.T, dbPath, number string) {
	t.Helper()
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	e, err := db.LookupExtension(ctx, "acme.example", number)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	if err := db.SetMailbox(ctx, e.ID, store.MailboxChange{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
}

func TestMailboxSizesComeFromFlagsAndEnvironmentWithinBounds(t *testing.T) {
	cfg, err := parseServeFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.mailboxes.limit != voicemail.DefaultLimit || cfg.mailboxes.maxLen != voicemail.DefaultMaxLen {
		t.Errorf("defaults: %d messages of %v, want %d of %v", cfg.mailboxes.limit, cfg.mailboxes.maxLen, voicemail.DefaultLimit, voicemail.DefaultMaxLen)
	}
	cfg, err = parseServeFlags([]string{"-voicemail-limit", "250", "-voicemail-max-length", "5m"})
	if err != nil || cfg.mailboxes.limit != 250 || cfg.mailboxes.maxLen != 5*time.Minute {
		t.Errorf("flags: %+v, %v; want 250 messages of 5m", cfg, err)
	}
	t.Setenv("DESKPBX_VOICEMAIL_LIMIT", "40")
	t.Setenv("DESKPBX_VOICEMAIL_MAX_LENGTH", "90s")
	cfg, err = parseServeFlags(nil)
	if err != nil || cfg.mailboxes.limit != 40 || cfg.mailboxes.maxLen != 90*time.Second {
		t.Errorf("environment: %+v, %v; want 40 messages of 1m30s", cfg, err)
	}
	for _, args := range [][]string{
		{"-voicemail-limit", "0"},
		{"-voicemail-limit", "100000"},
		{"-voicemail-max-length", "2s"},
		{"-voicemail-max-length", "3h"},
		{"-voicemail-max-length", "forever"},
	} {
		if _, err := parseServeFlags(args); err == nil || !strings.Contains(err.Error(), "voicemail-") {
			t.Errorf("%v: err %v, want a usage error naming the flag", args, err)
		}
	}
	t.Setenv("DESKPBX_VOICEMAIL_LIMIT", "lots")
	if _, err := parseServeFlags(nil); err == nil || !strings.Contains(err.Error(), "DESKPBX_VOICEMAIL_LIMIT") {
		t.Errorf("a bad DESKPBX_VOICEMAIL_LIMIT: err %v, want one naming it", err)
	}
}
