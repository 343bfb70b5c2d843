package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"deskpbx/store"
)

func TestFirstTenantIsDefaultAndTheMarkMoves(t *testing.T) {
	t.Parallel()
	path := testDB(t)
	r := deskpbx(t, "tenant", "add", "-db", path, "Acme.Example").mustSucceed(t, "first tenant")
	if !strings.Contains(r.stdout, "acme.example (the default tenant)") {
		t.Errorf("first tenant add said %q, want it to say it is the default", r.stdout)
	}
	deskpbx(t, "tenant", "add", "-db", path, "-pin", "482619", "beta.example").mustSucceed(t, "second tenant")
	db := openStore(t, path)
	if _, def := tenantDomains(t, db); def != "acme.example" {
		t.Fatalf("after two adds the default is %q, want the first, acme.example", def)
	}

	deskpbx(t, "tenant", "add", "-db", path, "-default", "gamma.example").mustSucceed(t, "tenant add -default")
	domains, def := tenantDomains(t, db)
	if def != "gamma.example" || !slices.Equal(domains, []string{"acme.example", "beta.example", "gamma.example"}) {
		t.Fatalf("after add -default: tenants %v, default %q; want the mark on gamma.example", domains, def)
	}
	beta, err := db.TenantByDomain(context.Background(), "beta.example")
	if err != nil || !beta.HasCompanyPIN {
		t.Errorf("beta.example = %+v, %v; want a company PIN", beta, err)
	}

	deskpbx(t, "tenant", "default", "-db", path, "acme.example").mustSucceed(t, "tenant default")
	if _, def := tenantDomains(t, db); def != "acme.example" {
		t.Fatalf("after tenant default acme.example the default is %q", def)
	}

	r = deskpbx(t, "tenant", "list", "-db", path).mustSucceed(t, "tenant list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("tenant list printed %d lines, want a header and 3 tenants:\n%s", len(lines), r.stdout)
	}
	for i, want := range []string{"acme.example yes no", "beta.example no yes", "gamma.example no no"} {
		if got := strings.Join(strings.Fields(lines[i+1])[:3], " "); got != want {
			t.Errorf("tenant list line %d = %q, want %q", i+2, got, want)
		}
	}
}

func TestDatabaseComesFromFlagThenEnvThenWorkingDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envDB := filepath.Join(t.TempDir(), "env.db")
	flagDB := filepath.Join(t.TempDir(), "flag.db")

	invocation{dir: dir}.run(t, "tenant", "add", "cwd.example").mustSucceed(t, "default path")
	withEnv := invocation{dir: dir, env: []string{"DESKPBX_DB=" + envDB}}
	withEnv.run(t, "tenant", "add", "env.example").mustSucceed(t, "DESKPBX_DB")
	withEnv.run(t, "tenant", "add", "-db", flagDB, "flag.example").mustSucceed(t, "-db over DESKPBX_DB")

	for path, want := range map[string]string{
		filepath.Join(dir, "deskpbx.db"): "cwd.example",
		envDB:                            "env.example",
		flagDB:                           "flag.example",
	} {
		if got, _ := tenantDomains(t, openStore(t, path)); !slices.Equal(got, []string{want}) {
			t.Errorf("%s holds %v, want [%s]", path, got, want)
		}
	}
}

func TestListingAMissingDatabaseDoesNotCreateIt(t *testing.T) {
	t.Parallel()
	path := testDB(t)
	for _, args := range [][]string{
		{"tenant", "list", "-db", path},
		{"ext", "list", "-db", path},
		{"ext", "add", "-db", path, "-password", "secret1", "acme.example", "1001"},
	} {
		deskpbx(t, args...).mustFail(t, strings.Join(args[:2], " "), 1, "no database at "+path)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s exists after commands that only read it: %v", path, err)
	}
}

// TestBadInputIsOneLineAndWritesNothing walks through the mistakes an
// admin makes at the prompt: each is refused with one line on stderr and
// the right exit status, and the database is left as it was.
func TestBadInputIsOneLineAndWritesNothing(t *testing.T) {
	t.Parallel()
	path := testDB(t)
	db := openStore(t, path)
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1001", Password: "secret1"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"bogus"}, 2, `unknown command "bogus"`},
		{"unknown subcommand", []string{"ext", "remove"}, 2, `unknown command "ext remove"`},
		{"group without subcommand", []string{"tenant"}, 2, "tenant needs a subcommand"},
		{"help for unknown command", []string{"help", "bogus"}, 2, "unknown command"},
		{"unknown flag", []string{"tenant", "add", "-db", path, "-force", "new.example"}, 2, "-force"},
		{"tenant add without domain", []string{"tenant", "add", "-db", path}, 2, "missing arguments"},
		{"tenant add with two domains", []string{"tenant", "add", "-db", path, "a.example", "b.example"}, 2, "too many arguments"},
		{"tenant list with an argument", []string{"tenant", "list", "-db", path, "acme.example"}, 2, "too many arguments"},
		{"malformed domain", []string{"tenant", "add", "-db", path, "bad_domain"}, 1, "not a valid DNS name"},
		{"domain with empty label", []string{"tenant", "add", "-db", path, "acme..example"}, 1, "not a valid DNS name"},
		{"IP address as domain", []string{"tenant", "add", "-db", path, "192.0.2.7"}, 1, "is an IP address"},
		{"duplicate tenant", []string{"tenant", "add", "-db", path, "ACME.example"}, 1, "tenant acme.example already exists"},
		{"guessable company PIN", []string{"tenant", "add", "-db", path, "-pin", "1234", "new.example"}, 1, "company PIN is a straight run"},
		{"default to unknown tenant", []string{"tenant", "default", "-db", path, "nope.example"}, 1, "no tenant nope.example"},
		{"unknown tenant", []string{"ext", "add", "-db", path, "-password", "secret1", "nope.example", "1002"}, 1, "no tenant nope.example"},
		{"ext with malformed domain", []string{"ext", "add", "-db", path, "-password", "secret1", "acme_example", "1002"}, 1, "not a valid DNS name"},
		{"duplicate extension", []string{"ext", "add", "-db", path, "-password", "other1", "acme.example", "1001"}, 1, "extension 1001@acme.example already exists"},
		{"non-numeric extension", []string{"ext", "add", "-db", path, "-password", "secret1", "acme.example", "10a2"}, 1, `extension number "10a2" must be digits only`},
		{"empty password", []string{"ext", "add", "-db", path, "-password", "", "acme.example", "1002"}, 1, "password is empty"},
		{"short password", []string{"ext", "add", "-db", path, "-password", "abc", "acme.example", "1002"}, 1, "password is shorter than 6"},
		{"missing -password", []string{"ext", "add", "-db", path, "acme.example", "1002"}, 2, "-password is required"},
		{"PIN equal to number", []string{"ext", "add", "-db", path, "-password", "secret1", "-pin", "1002", "acme.example", "1002"}, 1, "PIN may not be the extension number"},
		{"quote in name", []string{"ext", "add", "-db", path, "-password", "secret1", "-name", `Ada "the" Countess`, "acme.example", "1002"}, 1, "may not contain quotes"},
		{"line break in name", []string{"ext", "add", "-db", path, "-password", "secret1", "-name", "Ada\r\nVia: evil", "acme.example", "1002"}, 1, "control characters"},
		{"ext add without number", []string{"ext", "add", "-db", path, "-password", "secret1", "acme.example"}, 2, "missing arguments"},
		{"ext add with extra argument", []string{"ext", "add", "-db", path, "-password", "secret1", "acme.example", "1002", "1003"}, 2, "too many arguments"},
		{"flag after the arguments", []string{"ext", "add", "-db", path, "acme.example", "1002", "-password", "secret1"}, 2, "flags go first"},
		{"ext list of unknown tenant", []string{"ext", "list", "-db", path, "nope.example"}, 1, "no tenant nope.example"},
		{"ext import without file", []string{"ext", "import", "-db", path}, 2, "missing arguments"},
		{"ext import of missing file", []string{"ext", "import", "-db", path, filepath.Join(t.TempDir(), "none.csv")}, 1, "no such file"},
		{"healthcheck without port", []string{"healthcheck", "-sip-addr", "127.0.0.1"}, 2, "missing port"},
		{"healthcheck with arguments", []string{"healthcheck", "now"}, 2, "too many arguments"},
	}
	for _, c := range cases {
		r := deskpbx(t, c.args...)
		r.mustFail(t, c.name, c.code, c.want)
		if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
			t.Errorf("%s: stack trace on stderr: %s", c.name, r.stderr)
		}
	}
	if got, def := tenantDomains(t, db); !slices.Equal(got, []string{"acme.example"}) || def != "acme.example" {
		t.Errorf("after bad input the tenants are %v (default %q), want only acme.example", got, def)
	}
	if got := extensionAORs(t, db); !slices.Equal(got, []string{"1001@acme.example"}) {
		t.Errorf("after bad input the extensions are %v, want only 1001@acme.example", got)
	}
}

func TestCommandsWriteTheirChangesToTheAuditLog(t *testing.T) {
	t.Parallel()
	path := hotdeskOffice(t)
	deskpbx(t, "tenant", "default", "-db", path, "beta.example").mustSucceed(t, "tenant default")
	db := openStore(t, path)
	entries, _, err := db.AuditLog(context.Background(), store.AuditFilter{Action: "admin-change"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Actor, "cli") {
			t.Errorf("entry %+v: actor %q, want the cli", e, e.Actor)
		}
		got = append(got, e.Outcome+": "+e.Detail)
	}
	want := []string{"default tenant: beta.example is now the default tenant", "extension added: 2001@beta.example",
		"extension added: 1004@acme.example", "extension added: 1003@acme.example", "extension added: 1002@acme.example",
		"extension added: 1001@acme.example", "tenant added: beta.example", "tenant added: acme.example"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log, newest first:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
