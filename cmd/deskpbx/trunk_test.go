package main

import (
	"context"
	"strings"
	"testing"
)

// An admin sets up an outside line from the command line: a registering
// trunk (whose password is never printed back), a DID, an extension's
// caller IDs and permission, and the tenant's emergency numbers.
func TestTrunkDIDAndOutsideSettingsFromTheCLI(t *testing.T) {
	t.Parallel()
	path := acmeOffice(t)

	r := deskpbx(t, "trunk", "add", "-db", path, "-host", "sip.provider.example:5070", "-username", "acme",
		"-password", "Tr0nk-Secret", "-register", "acme.example", "main").mustSucceed(t, "trunk add")
	if strings.Contains(r.stdout, "Tr0nk-Secret") {
		t.Fatalf("trunk add printed the password: %q", r.stdout)
	}
	deskpbx(t, "trunk", "add", "-db", path, "-host", "x.example", "-register", "acme.example", "second").
		mustFail(t, "registering trunk without credentials", 1, "username")
	deskpbx(t, "trunk", "add", "-db", path, "acme.example", "third").mustFail(t, "trunk add without -host", 2, "-host")

	r = deskpbx(t, "trunk", "list", "-db", path).mustSucceed(t, "trunk list")
	if strings.Contains(r.stdout, "Tr0nk-Secret") || !strings.Contains(r.stdout, "sip.provider.example:5070") || !strings.Contains(r.stdout, "unregistered") {
		t.Fatalf("trunk list = %q, want the trunk, its state and no password", r.stdout)
	}

	deskpbx(t, "did", "add", "-db", path, "acme.example", "+15550101", "1001").mustSucceed(t, "did add")
	deskpbx(t, "did", "add", "-db", path, "acme.example", "+15550102", "1999").mustFail(t, "did to an unknown extension", 1, "1999")
	deskpbx(t, "ext", "set", "-db", path, "-outside-cid", "+15550199", "-emergency-cid", "+15550150", "-outside", "international",
		"acme.example", "1001").mustSucceed(t, "ext set")
	deskpbx(t, "ext", "set", "-db", path, "-outside", "everywhere", "acme.example", "1001").mustFail(t, "bad permission", 1, "international")
	deskpbx(t, "tenant", "set", "-db", path, "-emergency-numbers", "999,112", "-main-number", "+15550100", "acme.example").
		mustSucceed(t, "tenant set -emergency-numbers")

	db := openStore(t, path)
	ctx := context.Background()
	ten, err := db.TenantByDomain(ctx, "acme.example")
	if err != nil {
		t.Fatal(err)
	}
	ext, err := db.ExtensionByNumber(ctx, ten.ID, "1001")
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.ExtensionOutside(ctx, ext.ID)
	if err != nil || o.OutsideCID != "+15550199" || o.EmergencyCID != "+15550150" || o.Permission != "international" || o.DID != "+15550101" {
		t.Fatalf("extension outside = %+v, %v", o, err)
	}
	to, err := db.TenantOutside(ctx, ten.ID)
	if err != nil || strings.Join(to.EmergencyNumbers, ",") != "999,112" || to.MainNumber != "+15550100" {
		t.Fatalf("tenant outside = %+v, %v", to, err)
	}
	// The hot-desk settings were not touched by an outside-only change.
	if after, _ := db.TenantByDomain(ctx, "acme.example"); after.HotdeskLogin != ten.HotdeskLogin {
		t.Fatal("tenant set -emergency-numbers changed hot-desk settings")
	}
}
