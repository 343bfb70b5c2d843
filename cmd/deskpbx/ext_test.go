package main

import (
	"context"
	"strings"
	"testing"

	"deskpbx/store"
)

func TestExtAddStoresCredentialsAndShowsInList(t *testing.T) {
	t.Parallel()
	path := testDB(t)
	deskpbx(t, "tenant", "add", "-db", path, "acme.example").mustSucceed(t, "tenant add")
	deskpbx(t, "tenant", "add", "-db", path, "beta.example").mustSucceed(t, "tenant add")
	r := deskpbx(t, "ext", "add", "-db", path, "-password", "s3cret!x", "-pin", "4826", "-name", "Ada Lovelace", "acme.example", "1001").
		mustSucceed(t, "ext add 1001")
	if strings.TrimSpace(r.stdout) != "added extension 1001@acme.example" {
		t.Errorf("ext add said %q", r.stdout)
	}
	deskpbx(t, "ext", "add", "-db", path, "-password", "other-pw", "acme.example", "1002").mustSucceed(t, "ext add 1002")
	deskpbx(t, "ext", "add", "-db", path, "-password", "other-pw", "beta.example", "1001").mustSucceed(t, "same number, other tenant")

	db := openStore(t, path)
	e, err := db.LookupExtension(context.Background(), "acme.example", "1001")
	if err != nil {
		t.Fatal(err)
	}
	if e.HA1MD5 != store.HA1MD5("1001", "acme.example", "s3cret!x") {
		t.Error("1001's HA1 does not match the password given to ext add")
	}
	if e.DisplayName != "Ada Lovelace" || !store.CheckPIN(e.PINHash, "4826") {
		t.Errorf("1001 = name %q, PIN hash %q; want Ada Lovelace with PIN 4826", e.DisplayName, e.PINHash)
	}

	r = deskpbx(t, "ext", "list", "-db", path, "acme.example").mustSucceed(t, "ext list acme.example")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "1001@acme.example") || !strings.Contains(lines[1], "Ada Lovelace") ||
		!strings.Contains(lines[2], "1002@acme.example") {
		t.Errorf("ext list acme.example:\n%s", r.stdout)
	}
	r = deskpbx(t, "ext", "list", "-db", path).mustSucceed(t, "ext list")
	if n := strings.Count(r.stdout, "\n"); n != 4 || !strings.Contains(r.stdout, "1001@beta.example") {
		t.Errorf("ext list of all tenants:\n%s", r.stdout)
	}
}
