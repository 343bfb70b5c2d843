package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestTrunkPasswordIsKeptButNeverPrinted(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	k, err := db.CreateTrunk(ctx, NewTrunk{Domain: "acme.example", Name: "main", Host: "sip.provider.example:5070",
		Username: "acme", Password: "s3cr3t-pw", Register: true})
	if err != nil {
		t.Fatal(err)
	}
	if k.Password.Reveal() != "s3cr3t-pw" || k.HostPort() != "sip.provider.example:5070" || k.Transport != "udp" || k.State != TrunkUnregistered {
		t.Fatalf("trunk = %+v", k)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v %+v %s %#v", k, k, k.Password, k.Password)
	slog.New(slog.NewTextHandler(&b, nil)).Info("trunk", "trunk", k, "password", k.Password)
	if strings.Contains(b.String(), "s3cr3t") {
		t.Fatalf("password printed: %s", b.String())
	}
	if _, err := db.CreateTrunk(ctx, NewTrunk{Domain: "acme.example", Name: "main", Host: "other.example"}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("second trunk named main: %v, want conflict", err)
	}
	if _, err := db.CreateTrunk(ctx, NewTrunk{Domain: "acme.example", Name: "reg", Host: "x.example", Register: true}); ErrorCode(err) != EINVALID {
		t.Fatalf("registering trunk without credentials: %v, want invalid", err)
	}
	if err := db.SetTrunkState(ctx, k.ID, TrunkFailing, "408 no answer"); err != nil {
		t.Fatal(err)
	}
	ks, err := db.Trunks(ctx, 0)
	if err != nil || len(ks) != 1 || ks[0].State != TrunkFailing || ks[0].StateReason != "408 no answer" {
		t.Fatalf("trunks = %+v, %v", ks, err)
	}
}

func TestDIDsAndOutsideSettings(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "secret-1001"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.ExtensionOutside(ctx, e.ID)
	if err != nil || o != (ExtensionOutside{Permission: PermNational}) {
		t.Fatalf("defaults = %+v, %v", o, err)
	}
	if _, err := db.CreateDID(ctx, "acme.example", "+15550101", "1001"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateDID(ctx, "acme.example", "+15550101", "1001"); ErrorCode(err) != ECONFLICT {
		t.Fatalf("same DID twice: %v", err)
	}
	d, err := db.DIDByNumber(ctx, "+15550101")
	if err != nil || d.Extension.ID != e.ID {
		t.Fatalf("DID = %+v, %v", d, err)
	}
	cid, perm := "+15550199", "international"
	o, err = db.SetExtensionOutside(ctx, "acme.example", "1001", ExtensionOutsideSettings{OutsideCID: &cid, Permission: &perm})
	if err != nil || o.OutsideCID != cid || o.Permission != perm || o.DID != "+15550101" {
		t.Fatalf("set = %+v, %v", o, err)
	}
	bad := "everything"
	if _, err := db.SetExtensionOutside(ctx, "acme.example", "1001", ExtensionOutsideSettings{Permission: &bad}); ErrorCode(err) != EINVALID {
		t.Fatalf("bad permission: %v", err)
	}
	to, err := db.TenantOutside(ctx, e.TenantID)
	if err != nil || strings.Join(to.EmergencyNumbers, ",") != "911,112" {
		t.Fatalf("tenant defaults = %+v, %v", to, err)
	}
	nums, err := ParseNumberList("999, 112")
	if err != nil {
		t.Fatal(err)
	}
	main := "+15550100"
	to, err = db.SetTenantOutside(ctx, "acme.example", TenantOutsideSettings{EmergencyNumbers: &nums, MainNumber: &main})
	if err != nil || strings.Join(to.EmergencyNumbers, ",") != "999,112" || to.MainNumber != main {
		t.Fatalf("tenant set = %+v, %v", to, err)
	}
}
