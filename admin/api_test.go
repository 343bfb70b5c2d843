package admin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"deskpbx/store"
)

func TestAPIAcceptsOnlyBearerTokens(t *testing.T) {
	o := newOffice(t)
	b := o.login("root")
	if code := o.api("", "GET", "/me", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code := o.api("dpx_not-a-token", "GET", "/me", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("made-up token: %d", code)
	}
	// The browser's session cookie is no key to the API.
	req, _ := http.NewRequest("GET", o.http.URL+"/api/v1/me", nil)
	if res := b.do(req); res.status != http.StatusUnauthorized {
		t.Errorf("session cookie on the API: %d", res.status)
	}
	var me apiAdmin
	if code := o.api(b.apiToken("t"), "GET", "/me", nil, &me); code != 200 || me.Username != "root" || me.Role != "system" {
		t.Errorf("/me: %d %+v", code, me)
	}
}

func TestAPIDoesWhatThePagesDoForBothRoles(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	root := o.login("root").apiToken("root script")
	boss := o.login("acme-boss").apiToken("acme script")

	var tenants []apiTenant
	if o.api(root, "GET", "/tenants", nil, &tenants); len(tenants) != 2 {
		t.Errorf("system admin sees %d tenants, want 2", len(tenants))
	}
	if o.api(boss, "GET", "/tenants", nil, &tenants); len(tenants) != 1 || tenants[0].Domain != "acme.example" {
		t.Errorf("tenant admin sees %+v", tenants)
	}
	var tn apiTenant
	if code := o.api(root, "POST", "/tenants", map[string]any{"domain": "gamma.example", "company_pin": "482619"}, &tn); code != http.StatusCreated || !tn.HasCompanyPIN {
		t.Fatalf("create tenant: %d %+v", code, tn)
	}
	if code := o.api(boss, "POST", "/tenants", map[string]any{"domain": "evil.example"}, nil); code != http.StatusForbidden {
		t.Errorf("tenant admin creating a tenant: %d", code)
	}
	var errBody apiErrorBody
	if code := o.api(root, "POST", "/tenants", map[string]any{"domain": "no way"}, &errBody); code != http.StatusUnprocessableEntity || errBody.Fields["domain"] == "" {
		t.Errorf("bad domain: %d %+v", code, errBody)
	}
	if code := o.api(root, "POST", "/tenants", map[string]any{"domian": "typo.example"}, &errBody); code != http.StatusUnprocessableEntity || !strings.Contains(errBody.Error, "unknown field") {
		t.Errorf("misspelt field: %d %+v", code, errBody)
	}
	if code := o.api(root, "PATCH", "/tenants/"+id(tn.ID), map[string]any{"company_pin": ""}, &tn); code != 200 || tn.HasCompanyPIN {
		t.Errorf("clear PIN: %d %+v", code, tn)
	}
	if code := o.api(root, "DELETE", "/tenants/"+id(tn.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete tenant: %d", code)
	}

	var ext apiExtension
	code := o.api(boss, "POST", "/extensions", map[string]any{"number": "1050", "password": "Kettle-Orbit-50", "name": "Api Person"}, &ext)
	if code != http.StatusCreated || ext.Domain != "acme.example" {
		t.Fatalf("create extension: %d %+v", code, ext)
	}
	code = o.api(root, "POST", "/extensions", map[string]any{"domain": "beta.example", "number": "2050", "password": "Kettle-Orbit-50"}, nil)
	if code != http.StatusCreated {
		t.Errorf("system admin creating in beta by domain: %d", code)
	}
	if code := o.api(boss, "POST", "/extensions", map[string]any{"number": "1051", "password": "abc"}, &errBody); code != http.StatusUnprocessableEntity || errBody.Fields["password"] == "" {
		t.Errorf("weak password: %d %+v", code, errBody)
	}
	if code := o.api(boss, "POST", "/extensions", map[string]any{"number": "1050", "password": "Kettle-Orbit-50"}, &errBody); code != http.StatusUnprocessableEntity || !strings.Contains(errBody.Fields["number"], "already exists") {
		t.Errorf("duplicate: %d %+v", code, errBody)
	}
	if code := o.api(boss, "PATCH", "/extensions/"+id(ext.ID), map[string]any{"password": "Marble-Tunnel-51", "pin": "4826"}, &ext); code != 200 || !ext.HasPIN {
		t.Errorf("patch: %d %+v", code, ext)
	}
	if e, _ := o.db.ExtensionByID(ctx, ext.ID); e.HA1MD5 != storeHA1("1050", "acme.example", "Marble-Tunnel-51") {
		t.Error("password not changed through the API")
	}
	var exts []apiExtension
	if o.api(boss, "GET", "/extensions", nil, &exts); len(exts) != 3 {
		t.Errorf("tenant admin lists %d extensions, want 3", len(exts))
	}
	var imported map[string]int
	csv := "domain,number,password,pin,name\nacme.example,1060,Kettle-Orbit-60,,Csv Person\n"
	if code := o.api(boss, "POST", "/extensions/import", csv, &imported); code != 200 || imported["imported"] != 1 {
		t.Errorf("import: %d %v", code, imported)
	}
	var export string
	if o.api(boss, "GET", "/extensions/export", nil, &export); !strings.Contains(export, "acme.example,1060,,,Csv Person") || strings.Contains(export, "beta") {
		t.Errorf("export:\n%s", export)
	}
	if code := o.api(boss, "DELETE", "/extensions/"+id(ext.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete extension: %d", code)
	}
	var regs []apiRegistration
	if code := o.api(boss, "GET", "/registrations", nil, &regs); code != 200 || len(regs) != 0 {
		t.Errorf("registrations: %d %v", code, regs)
	}
	var calls []apiCall
	if code := o.api(boss, "GET", "/calls", nil, &calls); code != 200 || len(calls) != 0 {
		t.Errorf("calls: %d %v", code, calls)
	}
	var admins []apiAdmin
	if o.api(boss, "GET", "/admins", nil, &admins); len(admins) != 1 {
		t.Errorf("tenant admin lists %d admins, want 1", len(admins))
	}
	var na apiAdmin
	if code := o.api(boss, "POST", "/admins", map[string]any{"username": "acme-2", "password": "Quiet-Lantern-42"}, &na); code != http.StatusCreated || na.Domain != "acme.example" {
		t.Errorf("tenant admin adding an admin: %d %+v", code, na)
	}
	if code := o.api(boss, "DELETE", "/admins/"+id(na.ID), nil, nil); code != http.StatusNoContent {
		t.Errorf("tenant admin deleting its admin: %d", code)
	}
}

func TestAPIAnswersNotFoundForAnotherTenantsThings(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	boss := o.login("acme-boss").apiToken("acme script")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/tenants/" + id(o.beta.ID), nil},
		{"PATCH", "/tenants/" + id(o.beta.ID), map[string]any{"company_pin": "482619"}},
		{"DELETE", "/tenants/" + id(o.beta.ID), nil},
		{"GET", "/extensions/" + id(o.bob.ID), nil},
		{"PATCH", "/extensions/" + id(o.bob.ID), map[string]any{"name": "Hacked"}},
		{"DELETE", "/extensions/" + id(o.bob.ID), nil},
		{"GET", "/extensions?tenant=" + id(o.beta.ID), nil},
		{"GET", "/extensions/export?tenant=" + id(o.beta.ID), nil},
		{"POST", "/extensions", map[string]any{"tenant_id": o.beta.ID, "number": "2999", "password": "Kettle-Orbit-99"}},
		{"POST", "/extensions", map[string]any{"domain": "beta.example", "number": "2999", "password": "Kettle-Orbit-99"}},
		{"POST", "/admins", map[string]any{"username": "x-admin", "password": "Quiet-Lantern-42", "tenant_id": o.beta.ID}},
		{"DELETE", "/admins/" + id(o.betaBoss.ID), nil},
		{"DELETE", "/admins/" + id(o.root.ID), nil},
		{"DELETE", "/calls/" + "call-of-beta%40127.0.0.1", nil},
		{"GET", "/extensions/424242", nil},
		{"GET", "/no-such-thing", nil},
	} {
		if code := o.api(boss, c.method, c.path, c.body, nil); code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", c.method, c.path, code)
		}
	}
	if e, _ := o.db.ExtensionByID(ctx, o.bob.ID); e == nil || e.DisplayName != "Bob Beta" {
		t.Error("beta's extension changed")
	}
	if tn, _ := o.db.TenantByID(ctx, o.beta.ID); tn == nil || tn.HasCompanyPIN {
		t.Error("beta changed")
	}
	if admins, _ := o.db.Admins(ctx, 0); len(admins) != 3 {
		t.Errorf("%d admins, want 3", len(admins))
	}
}

func storeHA1(user, realm, pw string) string { return store.HA1MD5(user, realm, pw) }
