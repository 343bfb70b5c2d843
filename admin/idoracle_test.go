package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"deskpbx/hotdesk"
	"deskpbx/store"
)

// The attack: hot-desk IDs are unique across tenants, so a tenant admin
// offers IDs to learn which exist at other tenants (half of their logins).
// Their answer for another tenant's ID is now the very answer for an ID
// of their own tenant, and names no one; a system admin is told whose.
func TestTenantAdminCannotTellAnotherTenantsHotDeskID(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	o.login("acme-boss").addEntry(o.ada, "50017", "4826")
	bea, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "beta.example", Number: "2002", Password: "Bea-Secret-77", Name: "Bea Beta"})
	if err != nil {
		t.Fatal(err)
	}
	beta := o.login("beta-boss")
	beta.addEntry(bea, "60002", "5937")
	token := beta.apiToken("probe")
	answer := func(token, hotdeskID string) (int, string) {
		var e apiErrorBody
		code := o.api(token, "POST", "/hotdesk", map[string]any{"extension_id": o.bob.ID, "hotdesk_id": hotdeskID}, &e)
		return code, strings.ReplaceAll(e.Fields["hotdesk_id"], hotdeskID, "ID")
	}
	ownCode, own := answer(token, "60002")
	otherCode, other := answer(token, "50017")
	if ownCode != http.StatusUnprocessableEntity || otherCode != ownCode || other != own {
		t.Fatalf("another tenant's ID: %d %q; an own ID: %d %q: want the same refusal", otherCode, other, ownCode, own)
	}
	for _, leak := range []string{"acme", "1001", "tenant"} {
		if strings.Contains(strings.ToLower(other), leak) {
			t.Errorf("the refusal %q reveals %q", other, leak)
		}
	}
	// The page's form says the same as the API.
	res := beta.post("/hotdesk", map[string][]string{"extension": {idOf(o.bob)}, "hotdesk_id": {"50017"}})
	if res.status != http.StatusUnprocessableEntity || strings.Contains(res.body, "acme") || strings.Contains(res.body, "another tenant") {
		t.Errorf("form: %d, or the refusal names the holder", res.status)
	}
	// Probing on: each answer about another tenant's ID spent a try
	// (the API's and the form's: 2 of hotdesk.IDClashes). Once they are
	// spent, a free ID gets the same answer as a taken one, so the
	// answers tell nothing, and the operator is told.
	for i := 2; i < hotdesk.IDClashes; i++ {
		answer(token, "50017")
	}
	if code, msg := answer(token, "70003"); code != ownCode || msg != own {
		t.Fatalf("a free ID after the probing: %d %q, want the same refusal as for a taken one", code, msg)
	}
	if log, _ := o.db.HotdeskAudit(ctx, o.beta.ID, 100); len(log) == 0 || log[0].Outcome != "id-clash-lockout" {
		t.Error("the probing's lockout is not in the audit log")
	}
	root := o.login("root").apiToken("root")
	if code, msg := answer(root, "50017"); code != http.StatusUnprocessableEntity || !strings.Contains(msg, "1001@acme.example") {
		t.Errorf("system admin: %d %q, want told whose the ID is", code, msg)
	}
}
