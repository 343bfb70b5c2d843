package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"deskpbx/store"
)

// deskpbxBin is the binary under test, built once by TestMain so every
// test runs deskpbx exactly as an admin or a script would.
var deskpbxBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deskpbx-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	deskpbxBin = filepath.Join(dir, "deskpbx")
	build := exec.Command("go", "build", "-o", deskpbxBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building deskpbx:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary left behind.
type result struct {
	stdout, stderr string
	code           int
}

// invocation describes one run of deskpbx; the zero value runs in a fresh
// temporary directory with no DESKPBX_* variables from the developer's shell.
type invocation struct {
	dir   string
	env   []string
	stdin io.Reader
}

func deskpbx(t *testing.T, args ...string) result {
	t.Helper()
	return invocation{}.run(t, args...)
}

func (inv invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(deskpbxBin, args...)
	cmd.Dir = inv.dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DESKPBX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, inv.env...)
	cmd.Stdin = inv.stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running deskpbx %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustSucceed fails the test unless the run exited 0 with a quiet stderr.
func (r result) mustSucceed(t *testing.T, what string) result {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%s: exit %d, stderr %q, stdout %q", what, r.code, r.stderr, r.stdout)
	}
	return r
}

// mustFail checks the contract for bad input: the given exit status and
// one line on stderr, "deskpbx: " and a message containing want.
func (r result) mustFail(t *testing.T, what string, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, r.code, code, r.stderr)
	}
	line, rest, _ := strings.Cut(r.stderr, "\n")
	if rest != "" || !strings.HasPrefix(line, "deskpbx: ") {
		t.Errorf("%s: stderr is not one \"deskpbx: ...\" line: %q", what, r.stderr)
	}
	if !strings.Contains(line, want) {
		t.Errorf("%s: stderr %q does not mention %q", what, line, want)
	}
}

// testDB returns the path of a new database (not yet created).
func testDB(t *testing.T) string {
	return filepath.Join(t.TempDir(), "deskpbx.db")
}

// openStore opens path with the store package, to check what the binary
// wrote without trusting its own output.
func openStore(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tenantDomains(t *testing.T, db *store.DB) (domains []string, def string) {
	t.Helper()
	tenants, err := db.Tenants(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range tenants {
		domains = append(domains, tn.Domain)
		if tn.Default {
			def = tn.Domain
		}
	}
	return domains, def
}

func extensionAORs(t *testing.T, db *store.DB) []string {
	t.Helper()
	exts, err := db.Extensions(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range exts {
		out = append(out, e.AOR())
	}
	return out
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := deskpbx(t, args...).mustSucceed(t, strings.Join(args, " "))
		for _, cmd := range commands {
			if !strings.Contains(r.stdout, "deskpbx "+cmd.name+" ") {
				t.Errorf("deskpbx %s does not list %q:\n%s", args[0], cmd.name, r.stdout)
			}
		}
	}
	r := deskpbx(t, "ext", "import", "-h").mustSucceed(t, "ext import -h")
	if !strings.Contains(r.stdout, "Usage: deskpbx ext import") || !strings.Contains(r.stdout, "-db PATH") {
		t.Errorf("ext import -h:\n%s", r.stdout)
	}
	if r := deskpbx(t, "help", "tenant", "add").mustSucceed(t, "help tenant add"); !strings.Contains(r.stdout, "-default") {
		t.Errorf("help tenant add does not show -default:\n%s", r.stdout)
	}
}
