package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"deskpbx/store"
)

// provisioningCSV writes the rows an admin would export for n users of
// acme.example, every other one with a voicemail PIN.
func provisioningCSV(n int) []string {
	lines := []string{"domain,number,password,pin,name"}
	for i := 0; i < n; i++ {
		pin := ""
		if i%2 == 1 {
			pin = fmt.Sprintf("%d", 50000+i*7)
		}
		lines = append(lines, fmt.Sprintf("acme.example,%d,pw-%06d,%s,User %d", 2000+i, i, pin, i))
	}
	return lines
}

func writeCSV(t *testing.T, lines []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func dbWithTenant(t *testing.T) string {
	t.Helper()
	path := testDB(t)
	deskpbx(t, "tenant", "add", "-db", path, "acme.example").mustSucceed(t, "tenant add")
	return path
}

func TestImportThousandUsers(t *testing.T) {
	t.Parallel()
	path := dbWithTenant(t)
	csv := writeCSV(t, provisioningCSV(1000))
	start := time.Now()
	r := deskpbx(t, "ext", "import", "-db", path, csv).mustSucceed(t, "ext import")
	t.Logf("imported 1,000 extensions in %v", time.Since(start))
	if strings.TrimSpace(r.stdout) != "imported 1000 extensions" {
		t.Errorf("ext import said %q", r.stdout)
	}
	db := openStore(t, path)
	if got := len(extensionAORs(t, db)); got != 1000 {
		t.Fatalf("%d extensions in the database, want 1000", got)
	}
	e, err := db.LookupExtension(context.Background(), "acme.example", "2999")
	if err != nil {
		t.Fatal(err)
	}
	if e.DisplayName != "User 999" || e.HA1MD5 != store.HA1MD5("2999", "acme.example", "pw-000999") || !store.CheckPIN(e.PINHash, "56993") {
		t.Errorf("last row imported as %+v", e)
	}
}

func TestImportFromStdin(t *testing.T) {
	t.Parallel()
	path := dbWithTenant(t)
	in := strings.NewReader("domain,number,password,pin,name\nacme.example,1001,secret1,,\"Lovelace, Ada\"\n")
	invocation{stdin: in}.run(t, "ext", "import", "-db", path, "-").mustSucceed(t, "ext import -")
	e, err := openStore(t, path).LookupExtension(context.Background(), "acme.example", "1001")
	if err != nil || e.DisplayName != "Lovelace, Ada" {
		t.Fatalf("1001 from stdin = %+v, %v", e, err)
	}
}

// TestImportWithABadRowNamesItsLine: the admin is told the line to fix in
// their file, counting the header as line 1, blank lines, and a quoted
// field that spans two lines as two; and not one row is written.
func TestImportWithABadRowNamesItsLine(t *testing.T) {
	t.Parallel()
	good := provisioningCSV(1000)
	replace := func(i int, line string) func() []string {
		return func() []string {
			l := append([]string(nil), good...)
			l[i] = line
			return l
		}
	}
	cases := []struct {
		name  string
		lines func() []string
		want  string
	}{
		{"non-numeric number", replace(733, "acme.example,20x1,secret1,,Typo"),
			`line 734: extension number "20x1" must be digits only`},
		{"number already in the file", replace(900, "acme.example,2005,secret1,,Twin"),
			"line 901: extension 2005@acme.example already exists"},
		{"unknown tenant", replace(500, "acme.exmaple,9999,secret1,,Typo"),
			"line 501: no tenant acme.exmaple"},
		{"missing column", replace(10, "acme.example,9999,secret1"),
			"line 11: 3 columns, want 5"},
		{"unclosed quote", replace(20, `acme.example,9999,secret1,,"Ada`),
			`line 21: extraneous or missing " in quoted-field`},
		{"bad header", replace(0, "domain,number,password,name,pin"),
			`line 1: header is "domain,number,password,name,pin", want domain,number,password,pin,name`},
		{"row after a blank line", func() []string {
			return []string{good[0], good[1], "", good[2], "acme.example,3001,,,No password"}
		}, "line 5: password is empty"},
		{"quoted line break in a name", func() []string {
			return []string{good[0], good[1], good[2], `acme.example,3001,secret1,,"Ada`, `Lovelace"`}
		}, "line 4: name may not contain quotes, backslashes or control characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := dbWithTenant(t)
			csv := writeCSV(t, c.lines())
			r := deskpbx(t, "ext", "import", "-db", path, csv)
			r.mustFail(t, "ext import", 1, "users.csv "+c.want)
			if !strings.Contains(r.stderr, "nothing was imported") {
				t.Errorf("stderr %q does not say nothing was imported", r.stderr)
			}
			if got := extensionAORs(t, openStore(t, path)); len(got) != 0 {
				t.Errorf("%d extensions written by a failed import", len(got))
			}
		})
	}
}
