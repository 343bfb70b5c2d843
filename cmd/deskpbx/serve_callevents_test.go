package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"deskpbx/pbx"
	"deskpbx/store"
)

// What pbx reports of a transfer and a pickup lands in the audit log of
// the tenant of the person who did it.
func TestTransfersAndPickupsAreAudited(t *testing.T) {
	t.Parallel()
	path := hotdeskOffice(t)
	db := openStore(t, path)
	ctx := context.Background()
	acme, err := db.TenantByDomain(ctx, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	ext := func(n string) *store.Extension {
		e, err := db.ExtensionByNumber(ctx, acme.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	record := auditCallEvents(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	record(ctx, pbx.Handover{Kind: "transfer-blind", By: ext("1002"), Phone: ext("1002"), Party: "1001@acme.example",
		To: "1003@acme.example", OK: true, CallID: "c1", Source: "127.0.0.1:5062"})
	record(ctx, pbx.Handover{Kind: "transfer-blind", By: ext("1002"), Phone: ext("1002"), Party: "1001@acme.example",
		To: "1003@acme.example", Status: "486", CallID: "c2"})
	record(ctx, pbx.Handover{Kind: "pickup", By: ext("1003"), Phone: ext("1003"), Party: "1002@acme.example",
		To: "1001@acme.example", OK: true, CallID: "c3"})

	for _, c := range []struct{ action, outcome, person, detail string }{
		{"transfer-blind", "ok", "1002@acme.example", "1001@acme.example -> 1003@acme.example (Call-ID c1)"},
		{"transfer-blind", "failed 486", "1002@acme.example", "1001@acme.example -> 1003@acme.example (Call-ID c2)"},
		{"pickup", "ok", "1003@acme.example", "1002@acme.example -> 1001@acme.example (Call-ID c3)"},
	} {
		got, _, err := db.AuditLog(ctx, store.AuditFilter{TenantID: acme.ID, Action: c.action, Outcome: c.outcome}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Person != c.person || got[0].Detail != c.detail {
			t.Errorf("audit of %s %s: %+v, want one by %s: %s", c.action, c.outcome, got, c.person, c.detail)
		}
	}
}
