package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestFirstTenantIsDefaultAndDefaultMoves(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a, err := db.CreateTenant(ctx, "Acme.Example", "", false)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Default || a.Domain != "acme.example" {
		t.Fatalf("first tenant = %+v, want default acme.example", a)
	}
	b, err := db.CreateTenant(ctx, "beta.example", "", true)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Default {
		t.Fatal("tenant created with makeDefault is not default")
	}
	if got, _ := db.ResolveTenant(ctx, "127.0.0.1"); got.Domain != "beta.example" {
		t.Fatalf("IP resolves to %s, want the default beta.example", got.Domain)
	}
	if _, err := db.ResolveTenant(ctx, "elsewhere.example"); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("unknown domain resolves: %v", err)
	}
	if got, _ := db.ResolveTenant(ctx, "acme.example"); got.Domain != "acme.example" {
		t.Fatalf("acme.example resolves to %s", got.Domain)
	}
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); ErrorCode(err) != ECONFLICT {
		t.Fatalf("duplicate tenant: err = %v, want conflict", err)
	}
	for _, bad := range []string{"", "10.0.0.1", "bad_domain", "-x.example", "a..b"} {
		if _, err := db.CreateTenant(ctx, bad, "", false); ErrorCode(err) != EINVALID {
			t.Errorf("CreateTenant(%q) err = %v, want invalid", bad, err)
		}
	}
}

func TestExtensionStoresOnlyHashes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x", PIN: "4826", Name: "Ada Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	if e.HA1MD5 != HA1MD5("1001", "acme.example", "s3cret!x") {
		t.Fatal("HA1 is not H(number:realm:password)")
	}
	if !CheckPIN(e.PINHash, "4826") || CheckPIN(e.PINHash, "4827") {
		t.Fatal("PIN hash does not verify the PIN alone")
	}
	var n int
	db.sql.QueryRow(`SELECT count(*) FROM extensions WHERE ha1_md5 LIKE '%s3cret%' OR pin_hash LIKE '%4826%'`).Scan(&n)
	if n != 0 {
		t.Fatal("a secret is stored in clear")
	}
	got, err := db.LookupExtension(ctx, "127.0.0.1", "1001")
	if err != nil || got.ID != e.ID {
		t.Fatalf("lookup by IP in default tenant: %v %v", got, err)
	}
	cases := []NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "another1"},
		{Domain: "nope.example", Number: "1002", Password: "another1"},
		{Domain: "acme.example", Number: "10a2", Password: "another1"},
		{Domain: "acme.example", Number: "1003", Password: ""},
		{Domain: "acme.example", Number: "1004", Password: "another1", PIN: "1111"},
		{Domain: "acme.example", Number: "1005", Password: "another1", Name: "Eve\r\nVia: x"},
	}
	want := []string{ECONFLICT, ENOTFOUND, EINVALID, EINVALID, EINVALID, EINVALID}
	for i, c := range cases {
		if _, err := db.CreateExtension(ctx, c); ErrorCode(err) != want[i] {
			t.Errorf("case %d (%+v): err = %v, want %s", i, c, err, want[i])
		}
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	rows := []NewExtension{
		{Domain: "acme.example", Number: "2001", Password: "pass-2001"},
		{Domain: "acme.example", Number: "2002", Password: "pass-2002"},
		{Domain: "acme.example", Number: "2001", Password: "pass-dupe"},
	}
	err := db.ImportExtensions(ctx, rows)
	re, ok := err.(*RowError)
	if !ok || re.Row != 2 || ErrorCode(err) != ECONFLICT {
		t.Fatalf("err = %#v, want a conflict on row 2", err)
	}
	if exts, _ := db.Extensions(ctx, 0); len(exts) != 0 {
		t.Fatalf("%d extensions written by a failed import", len(exts))
	}
	if err := db.ImportExtensions(ctx, rows[:2]); err != nil {
		t.Fatal(err)
	}
	if exts, _ := db.Extensions(ctx, 0); len(exts) != 2 {
		t.Fatalf("%d extensions after import, want 2", len(exts))
	}
}

func TestBindingWriterPersistsAndSkipsDeletedExtensions(t *testing.T) {
	ctx := context.Background()
	db, e, now := oneExtension(t)
	w := db.NewBindingWriter(nil, nil)
	for i := 0; i < 2500; i++ {
		w.Put(Binding{ExtensionID: e.ID, Contact: "sip:1001@127.0.0.1:5062", Source: "127.0.0.1:5062", Transport: "udp", CallID: "c", CSeq: uint32(i), Expires: now.Add(time.Hour), Updated: now})
	}
	w.Put(Binding{ExtensionID: 9999, Contact: "sip:ghost@127.0.0.1", Expires: now.Add(time.Hour), Updated: now})
	w.Put(Binding{ExtensionID: e.ID, Contact: "sip:old@127.0.0.1", Expires: now.Add(-time.Second), Updated: now})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	bs, err := db.LoadBindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].CSeq != 2499 {
		t.Fatalf("bindings = %+v, want the one live binding at its last CSeq", bs)
	}
	w.Delete(e.ID, "sip:1001@127.0.0.1:5062")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bs, _ := db.LoadBindings(ctx); len(bs) != 0 {
		t.Fatalf("binding survived its delete: %+v", bs)
	}
	if n, _ := db.DeleteExpiredBindings(ctx); n != 1 {
		t.Fatalf("swept %d expired bindings, want 1", n)
	}
}

func TestWeakPINsRefused(t *testing.T) {
	for _, pin := range []string{"123", "0000", "1234", "9876", "8901", "12a4"} {
		if ValidPIN(pin) == nil {
			t.Errorf("ValidPIN(%q) accepted a guessable PIN", pin)
		}
	}
	for _, pin := range []string{"4826", "1357", "90210"} {
		if err := ValidPIN(pin); err != nil {
			t.Errorf("ValidPIN(%q) = %v", pin, err)
		}
	}
}

func TestDirectoryGenerationMovesOnEveryDirectoryChange(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	g0, err := db.DirectoryGeneration(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.CreateTenant(ctx, "acme.example", "", false)
	g1, _ := db.DirectoryGeneration(ctx)
	db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x"})
	g2, _ := db.DirectoryGeneration(ctx)
	w := db.NewBindingWriter(nil, nil)
	w.Put(Binding{ExtensionID: 1, Contact: "sip:a@127.0.0.1", Expires: time.Now().Add(time.Hour)})
	w.Close()
	g3, _ := db.DirectoryGeneration(ctx)
	if !(g0 < g1 && g1 < g2) {
		t.Fatalf("generation %d, %d, %d: want it to move on tenant and extension changes", g0, g1, g2)
	}
	if g3 != g2 {
		t.Fatal("a registration moved the directory generation: caches would be flushed by traffic")
	}
}
