package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
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

func TestTheTenantFormSavesTheDefaultMarkAndHotDeskSettingsInOneTransaction(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	root := o.login("root")
	audit := func() []string {
		t.Helper()
		entries, _, err := o.db.AuditLog(ctx, store.AuditFilter{TenantID: o.beta.ID, Action: "admin-change"}, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Actor+" "+e.Outcome+": "+e.Detail)
		}
		return got
	}
	before := audit()
	// The company PIN is Bob's number: refused, and the default mark sent
	// with it stays where it was, with nothing logged.
	form := url.Values{"default": {"on"}, "company_pin": {"2001"}, "hotdesk_settings": {"1"}, "hotdesk_login": {"on"}, "hotdesk_logout": {"on"}, "autologout_at": {"18:30"}}
	if res := root.post("/tenants/"+id(o.beta.ID), form); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-company_pin"`) {
		t.Fatalf("company PIN equal to an extension: %d\n%s", res.status, res.body)
	}
	if b, _ := o.db.TenantByID(ctx, o.beta.ID); b.Default || b.HasCompanyPIN || b.AutologoutAt != "" {
		t.Fatalf("beta after the refused form: %+v, want unchanged", b)
	}
	if got := audit(); !slices.Equal(got, before) {
		t.Fatalf("audit log after the refused form: %q, want %q", got, before)
	}
	form.Set("company_pin", "482619")
	if res := root.post("/tenants/"+id(o.beta.ID), form); res.status != http.StatusSeeOther {
		t.Fatalf("tenant form: %d\n%s", res.status, res.body)
	}
	if b, _ := o.db.TenantByID(ctx, o.beta.ID); !b.Default || !b.HasCompanyPIN || b.AutologoutAt != "18:30" {
		t.Fatalf("beta after the form: %+v, want default, company PIN, auto-logout 18:30", b)
	}
	want := append([]string{"admin:root default tenant: beta.example is now the default tenant",
		"admin:root ok: tenant beta.example: company PIN set, daily auto-logout at 18:30"}, before...)
	if got := audit(); !slices.Equal(got, want) {
		t.Fatalf("audit log:\n%s\nwant (newest first):\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestATenantsCompanyPINAtCreationIsSavedAndAuditedWithIt(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	root := o.login("root").apiToken("root script")
	var out apiTenant
	if code := o.api(root, "POST", "/tenants", map[string]any{"domain": "gamma.example", "company_pin": "482619"}, &out); code != http.StatusCreated || !out.HasCompanyPIN {
		t.Fatalf("create tenant with a PIN: %d %+v", code, out)
	}
	entries, _, err := o.db.AuditLog(ctx, store.AuditFilter{TenantID: out.ID, Action: "admin-change"}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "admin:root" || entries[0].Detail != "gamma.example, company PIN set" || strings.Contains(entries[0].Detail, "4826") {
		t.Fatalf("audit log of the new tenant: %+v, want one row: admin:root, gamma.example, company PIN set", entries)
	}
}
