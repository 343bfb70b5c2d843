package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"deskpbx/store"
)

func TestAdminChangesAreInTheAuditLogWithoutSecrets(t *testing.T) {
	o := newOffice(t)
	boss := o.login("acme-boss").apiToken("acme script")
	var ext apiExtension
	if code := o.api(boss, "POST", "/extensions", map[string]any{"number": "1060", "password": "Kettle-Orbit-60", "name": "Audit Me"}, &ext); code != http.StatusCreated {
		t.Fatalf("create extension: %d", code)
	}
	if code := o.api(boss, "PATCH", "/extensions/"+id(ext.ID), map[string]any{"password": "Marble-Tunnel-61", "pin": "4826"}, &ext); code != 200 {
		t.Fatalf("change extension: %d", code)
	}
	if code := o.api(boss, "DELETE", "/extensions/"+id(ext.ID), nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete extension: %d", code)
	}
	entries, _, err := o.db.AuditLog(context.Background(), store.AuditFilter{TenantID: o.acme.ID, Action: "admin-change"}, 50)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor != "admin:acme-boss" {
			t.Errorf("entry %+v: actor %q, want admin:acme-boss", e, e.Actor)
		}
		for _, secret := range []string{"Kettle", "Marble", "4826"} {
			if strings.Contains(e.Detail, secret) {
				t.Errorf("the audit log holds a secret: %+v", e)
			}
		}
		got = append(got, e.Outcome+": "+e.Detail)
	}
	want := []string{
		"extension deleted: 1060@acme.example",
		"extension changed: 1060@acme.example: SIP password, voicemail PIN",
		"extension added: 1060@acme.example",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant (newest first):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Another tenant's admin does not see them.
	beta, _, _ := o.db.AuditLog(context.Background(), store.AuditFilter{TenantID: o.beta.ID, Action: "admin-change"}, 50)
	if len(beta) != 0 {
		t.Fatalf("beta's audit log shows %d of acme's changes", len(beta))
	}
}
