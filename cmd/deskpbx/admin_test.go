package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
