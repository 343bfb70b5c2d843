package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

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

func TestCreateAdminReadsThePasswordFromStdin(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	deskpbx(t, "tenant", "add", "-db", db, "acme.example").mustSucceed(t, "tenant add")
	r := invocation{stdin: strings.NewReader("Quiet-Lantern-42\n")}.run(t, "create-admin", "-db", db, "grace")
	r.mustSucceed(t, "create-admin")
	if !strings.Contains(r.stdout, "created system admin grace") || strings.Contains(r.stdout, "Quiet-Lantern-42") {
		t.Errorf("stdout %q", r.stdout)
	}
	r = invocation{stdin: strings.NewReader("Marble-Tunnel-66")}.run(t, "create-admin", "-db", db, "-tenant", "acme.example", "boss")
	r.mustSucceed(t, "create-admin -tenant")
	if !strings.Contains(r.stdout, "created admin boss of acme.example") {
		t.Errorf("stdout %q", r.stdout)
	}
	s := openStore(t, db)
	ctx := context.Background()
	if a, err := s.AuthenticateAdmin(ctx, "grace", "Quiet-Lantern-42"); err != nil || !a.System() {
		t.Errorf("grace: %+v %v", a, err)
	}
	if a, err := s.AuthenticateAdmin(ctx, "boss", "Marble-Tunnel-66"); err != nil || a.Domain != "acme.example" {
		t.Errorf("boss: %+v %v", a, err)
	}
}

func TestCreateAdminGeneratesAPasswordWhenStdinIsEmpty(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	r := deskpbx(t, "create-admin", "-db", db, "ops").mustSucceed(t, "create-admin")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no generated password in %q", r.stdout)
	}
	if _, err := openStore(t, db).AuthenticateAdmin(context.Background(), "ops", m[1]); err != nil {
		t.Errorf("the printed password does not log in: %v", err)
	}
}

func TestCreateAdminRefusals(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	deskpbx(t, "create-admin", "-db", db, "ops").mustSucceed(t, "create-admin")
	invocation{stdin: strings.NewReader("password1\n")}.run(t, "create-admin", "-db", db, "weak").
		mustFail(t, "weak password", 1, "password is shorter than 10 characters")
	invocation{stdin: strings.NewReader("Quiet-Lantern-42\n")}.run(t, "create-admin", "-db", db, "OPS").
		mustFail(t, "duplicate", 1, "already in use")
	invocation{stdin: strings.NewReader("Quiet-Lantern-42\n")}.run(t, "create-admin", "-db", db, "-tenant", "nowhere.example", "x").
		mustFail(t, "unknown tenant", 1, "no tenant nowhere.example")
	deskpbx(t, "create-admin", "-db", db, "bad name").mustFail(t, "bad username", 1, "username may contain only")
	deskpbx(t, "create-admin", "-db", db).mustFail(t, "no username", 2, "missing arguments")
}

// TestFirstStartPrintsTheAdminPasswordOnce runs the server as an office
// admin would on a new box, under a service manager (stderr is a pipe):
// the log says where to go and where the password is, but never the
// password; the password is in a 0600 file beside the database, it logs
// in, the account must change it, and a restart does not make another.
func TestFirstStartPrintsTheAdminPasswordOnce(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	log, stop := startServe(t, db)
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/) user=admin password_file=(\S+)`).FindStringSubmatch(log)
	if m == nil {
		stop()
		t.Fatalf("no first-start admin line in:\n%s", log)
	}
	res, err := http.Get(m[1] + "healthz")
	if err != nil || res.StatusCode != 200 {
		t.Errorf("healthz: %v %v", res, err)
	}
	if res != nil {
		res.Body.Close()
	}
	stop()
	if m[2] != firstAdminFile(db) {
		t.Errorf("password file %s, want %s beside the database", m[2], firstAdminFile(db))
	}
	st, err := os.Stat(m[2])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v, want mode 0600", st, err)
	}
	raw, _ := os.ReadFile(m[2])
	pw := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(string(raw))
	if pw == nil {
		t.Fatalf("no password in the file:\n%s", raw)
	}
	if strings.Contains(log, pw[1]) {
		t.Errorf("the password is in the log:\n%s", log)
	}
	a, err := openStore(t, db).AuthenticateAdmin(context.Background(), "admin", pw[1])
	if err != nil {
		t.Errorf("the written password does not log in: %v", err)
	} else if !a.MustChangePassword {
		t.Error("the generated password need not be changed")
	}
	os.Remove(m[2])
	log, stop = startServe(t, db)
	stop()
	if strings.Contains(log, "password") {
		t.Errorf("second start spoke of a password:\n%s", log)
	}
	if _, err := os.Stat(m[2]); err == nil {
		t.Error("second start wrote a password file")
	}
}

// startServe starts deskpbx serve on loopback with free ports and returns
// its log up to the line saying it runs, and a stop that ends it cleanly.
func startServe(t *testing.T, db string) (string, func()) {
	t.Helper()
	cmd := exec.Command(deskpbxBin, "serve", "-db", db, "-sip-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-rtp-ports", "33000-33099")
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill() })
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "deskpbx running") {
			break
		}
	}
	deadline.Stop()
	go io.Copy(io.Discard, stderr)
	stopped := false
	return log.String(), func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve exited: %v", err)
			}
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Error("serve did not stop within 15 s of SIGTERM")
		}
	}
}

func TestTenantAddWithACompanyPINIsOneAuditedChange(t *testing.T) {
	t.Parallel()
	path := testDB(t)
	deskpbx(t, "tenant", "add", "-db", path, "-pin", "482619", "beta.example").mustSucceed(t, "tenant add -pin")
	db := openStore(t, path)
	beta, err := db.TenantByDomain(context.Background(), "beta.example")
	if err != nil || !beta.HasCompanyPIN {
		t.Fatalf("beta.example = %+v, %v; want a company PIN", beta, err)
	}
	entries, _, err := db.AuditLog(context.Background(), store.AuditFilter{TenantID: beta.ID, Action: "admin-change"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || !strings.HasPrefix(entries[0].Actor, "cli") || entries[0].Outcome+": "+entries[0].Detail != "tenant added: beta.example, company PIN set" {
		t.Fatalf("audit log of beta.example: %+v, want one row by the cli: tenant added: beta.example, company PIN set", entries)
	}
}
