package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"deskpbx/store"
)

// freshBox is a first start: an empty database, the generated admin, and
// the page (no PBX: an account that must change its password reaches no
// page that shows calls).
func freshBox(t *testing.T) (*office, string) {
	t.Helper()
	o := emptyOffice(t)
	db := o.db
	user, pw, ok, err := EnsureFirstAdmin(context.Background(), db)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	o.passwords[user] = pw
	o.srv, err = New(Config{DB: db, Log: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	o.http = httptest.NewServer(o.srv.Handler())
	t.Cleanup(func() {
		o.srv.Close()
		o.http.Close()
		db.Close()
	})
	return o, user
}

func TestTheGeneratedPasswordMustBeChangedBeforeAnythingElse(t *testing.T) {
	o, user := freshBox(t)
	b := o.browser()
	res := b.tryLogin(user, o.passwords[user])
	if res.status != http.StatusSeeOther || res.location != "/account" {
		t.Fatalf("first login: %d to %q, want the Account page", res.status, res.location)
	}
	acct := b.get("/account")
	if acct.status != 200 {
		t.Fatalf("account page: %d", acct.status)
	}
	for _, p := range []string{"/", "/tenants", "/extensions", "/admins", "/calls"} {
		if r := b.get(p); r.status != http.StatusSeeOther || r.location != "/account" {
			t.Errorf("GET %s before the change: %d %q", p, r.status, r.location)
		}
	}
	for _, p := range []string{"/tenants", "/account/tokens", "/admins"} {
		if r := b.post(p, url.Values{"domain": {"acme.example"}, "name": {"x"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s before the change: %d", p, r.status)
		}
	}
	if ts, _ := o.db.Tenants(context.Background()); len(ts) != 0 {
		t.Fatalf("a tenant was made before the password change: %v", ts)
	}
	newPW := "Granite-Otter-81"
	if r := b.post("/account/password", url.Values{"current": {o.passwords[user]}, "password": {newPW}, "confirm": {newPW}}); r.status != http.StatusSeeOther {
		t.Fatalf("password change: %d\n%s", r.status, r.body)
	}
	b.get("/account") // the new session's CSRF token
	if r := b.get("/tenants"); r.status != 200 {
		t.Errorf("after the change: %d", r.status)
	}
}

func TestAPITokensExpireAndDieWithAPasswordChange(t *testing.T) {
	o := newOffice(t)
	b := o.login("root")
	token := b.apiToken("script")
	if code := o.api(token, "GET", "/tenants", nil, nil); code != 200 {
		t.Fatalf("fresh token: %d", code)
	}
	// Someone who learnt the password made a token; the owner changes it.
	newPW := "Granite-Otter-81"
	if r := b.post("/account/password", url.Values{"current": {o.passwords["root"]}, "password": {newPW}, "confirm": {newPW}}); r.status != http.StatusSeeOther {
		t.Fatalf("password change: %d\n%s", r.status, r.body)
	}
	if code := o.api(token, "GET", "/tenants", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("token after a password change: %d, want 401", code)
	}
	b.get("/account")
	token = b.apiToken("script 2")
	o.now.Advance(store.APITokenLifetime - time.Hour)
	if code := o.api(token, "GET", "/tenants", nil, nil); code != 200 {
		t.Errorf("token an hour before it expires: %d", code)
	}
	o.now.Advance(2 * time.Hour)
	if code := o.api(token, "GET", "/tenants", nil, nil); code != http.StatusUnauthorized {
		t.Errorf("expired token: %d, want 401", code)
	}
}
