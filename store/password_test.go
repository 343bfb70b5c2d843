package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 12, item 3: the CLI and the CSV import took 6-character SIP
// passwords such as 123456 that the admin page refused. The store now
// refuses them for every caller.
func TestGuessableSIPPasswordsAreRefusedEverywhere(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"123456", "000000", "987654321", "aaaaaa", "zzzzzzzzzzzz", "password", "Secret"} {
		if _, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: pw}); ErrorCode(err) != EINVALID {
			t.Errorf("ext add with password %q: %v, want refused", pw, err)
		}
		csv := "domain,number,password,pin,name\nacme.example,1001," + pw + ",,\n"
		rows, _, err := ParseExtensionsCSV(strings.NewReader(csv))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.ImportExtensions(ctx, rows); err == nil {
			t.Errorf("CSV import with password %q accepted", pw)
		}
		if err := StrongSIPPassword("1001", "acme.example", pw); err == nil {
			t.Errorf("the admin page's rule accepts %q", pw)
		}
	}
	if _, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "1234567890123"}); err != nil {
		t.Errorf("a 13-digit password: %v", err)
	}
}
