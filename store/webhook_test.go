package store

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"
	"time"
)

const testWebhookSecret = "0123456789abcdef0123456789abcdef"

// The webhooks migration's rows, for the forward-migration test once a
// later migration exists. Keyed by the file's number, whatever it is
// renumbered to.
func init() {
	names, _ := fs.Glob(migrationFS, "migrations/*_webhooks.sql")
	if len(names) != 1 {
		return
	}
	fixtures[migrationNumber(names[0])] = fixture{
		insert: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx,
				q(`INSERT INTO webhooks (id, tenant_id, url, secret, created_at) VALUES (30, 1, 'https://crm.acme.example/hook', ?, 1700000000000)`, testWebhookSecret),
				q(`INSERT INTO webhook_deliveries (webhook_id, event, body, next_at, created_at) VALUES (30, 'call.missed', '{}', 1700000000000, 1700000000000)`),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			hooks, err := db.Webhooks(ctx, 0)
			if err != nil || len(hooks) != 1 || hooks[0].URL != "https://crm.acme.example/hook" || hooks[0].Pending != 1 {
				t.Errorf("webhooks after the upgrade: %+v, %v", hooks, err)
			}
		},
	}
}

func TestWebhookOutboxLifecycle(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	now := time.UnixMilli(1700000000000)
	db.Now = func() time.Time { return now }
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	beta, err := db.CreateTenant(ctx, "beta.example", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateWebhook(ctx, "nowhere.example", "https://x.example/", testWebhookSecret); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("webhook for an unknown tenant: %v, want not found", err)
	}
	crm, err := db.CreateWebhook(ctx, "acme.example", "https://crm.acme.example/hook", testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateWebhook(ctx, "ACME.example", "https://crm.acme.example/hook", testWebhookSecret); ErrorCode(err) != ECONFLICT {
		t.Fatalf("the same URL twice: %v, want conflict", err)
	}
	chat, err := db.CreateWebhook(ctx, "acme.example", "https://chat.acme.example/in", testWebhookSecret)
	if err != nil {
		t.Fatal(err)
	}

	if d, n, err := db.WebhookTenant(ctx, crm.TenantID); d != "acme.example" || n != 2 || err != nil {
		t.Errorf("WebhookTenant(acme) = %q, %d, %v", d, n, err)
	}
	if _, n, err := db.WebhookTenant(ctx, beta.ID); n != 0 || err != nil {
		t.Errorf("WebhookTenant(beta) = %d, %v", n, err)
	}
	if _, _, err := db.WebhookTenant(ctx, 999); ErrorCode(err) != ENOTFOUND {
		t.Errorf("WebhookTenant(999): %v", err)
	}
	// An event of acme reaches both its hooks; beta has none.
	if n, err := db.EnqueueWebhookEvent(ctx, crm.TenantID, "call.missed", []byte(`{"a":1}`)); err != nil || n != 2 {
		t.Fatalf("enqueue: %d, %v; want 2 deliveries", n, err)
	}
	if n, err := db.EnqueueWebhookEvent(ctx, beta.ID, "call.missed", []byte(`{}`)); err != nil || n != 0 {
		t.Fatalf("enqueue for a tenant without hooks: %d, %v", n, err)
	}
	due, err := db.DueWebhookDeliveries(ctx, 10)
	if err != nil || len(due) != 2 || string(due[0].Body) != `{"a":1}` || due[0].Secret != testWebhookSecret {
		t.Fatalf("due: %+v, %v", due, err)
	}
	var toCRM, toChat *WebhookDelivery
	for _, d := range due {
		switch d.WebhookID {
		case crm.ID:
			toCRM = d
		case chat.ID:
			toChat = d
		}
	}
	if toCRM == nil || toChat == nil || toCRM.URL != crm.URL {
		t.Fatalf("deliveries %+v, want one per hook", due)
	}

	// The CRM accepts; the chat fails and is retried in a minute, then
	// given up on.
	if err := db.WebhookDelivered(ctx, toCRM.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.WebhookAttemptFailed(ctx, toChat.ID, strings.Repeat("x", 600), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueWebhookDeliveries(ctx, 10); len(due) != 0 {
		t.Fatalf("due right after: %+v, want none", due)
	}
	if next, ok, err := db.NextWebhookDue(ctx); err != nil || !ok || !next.Equal(now.Add(time.Minute)) {
		t.Fatalf("next due %v %v %v, want in a minute", next, ok, err)
	}
	now = now.Add(time.Minute)
	due, _ = db.DueWebhookDeliveries(ctx, 10)
	if len(due) != 1 || due[0].ID != toChat.ID || due[0].Attempts != 1 {
		t.Fatalf("due a minute later: %+v, want the chat's second attempt", due)
	}
	if err := db.WebhookAttemptFailed(ctx, toChat.ID, "503", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.NextWebhookDue(ctx); ok {
		t.Fatal("a delivery is still pending after both finished")
	}
	hooks, err := db.Webhooks(ctx, crm.TenantID)
	if err != nil || len(hooks) != 2 {
		t.Fatalf("hooks: %+v, %v", hooks, err)
	}
	for _, h := range hooks {
		if h.Pending != 0 || h.Failed != map[int64]int{crm.ID: 0, chat.ID: 1}[h.ID] {
			t.Errorf("hook %s: %d pending, %d failed", h.URL, h.Pending, h.Failed)
		}
	}

	// A week on, finished deliveries are pruned; removing a hook takes
	// its pending ones with it.
	db.EnqueueWebhookEvent(ctx, crm.TenantID, "call.missed", []byte(`{}`))
	now = now.Add(7 * 24 * time.Hour)
	if n, err := db.PruneWebhookDeliveries(ctx, now.Add(-24*time.Hour)); err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want the 2 finished", n, err)
	}
	if err := db.DeleteWebhook(ctx, chat.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteWebhook(ctx, chat.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("deleting twice: %v", err)
	}
	if due, _ := db.DueWebhookDeliveries(ctx, 10); len(due) != 1 || due[0].WebhookID != crm.ID {
		t.Fatalf("due after removing the chat hook: %+v", due)
	}
}
