package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestFirstStartOnATerminalShowsThePasswordThereOnly: an admin starting
// deskpbx by hand sees the password on the terminal, once; no file is
// written, and the log line that says so carries no password.
func TestFirstStartOnATerminalShowsThePasswordThereOnly(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	master, tty := openPTY(t)
	cmd := exec.Command(deskpbxBin, "serve", "-db", db, "-sip-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0", "-rtp-ports", "33100-33199")
	cmd.Stderr = tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(master)
	deadline := time.AfterFunc(15*time.Second, func() { cmd.Process.Kill(); master.Close() })
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "deskpbx running") {
			break
		}
	}
	deadline.Stop()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exited: %v", err)
	}
	m := regexp.MustCompile(`with password\s+(\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no password on the terminal:\n%s", out.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "time=") && strings.Contains(line, m[1]) {
			t.Errorf("a log line carries the password: %s", line)
		}
	}
	if _, err := os.Stat(firstAdminFile(db)); err == nil {
		t.Error("a password file was written although the terminal showed it")
	}
	a, err := openStore(t, db).AuthenticateAdmin(context.Background(), "admin", m[1])
	if err != nil || !a.MustChangePassword {
		t.Errorf("the shown password: %+v %v", a, err)
	}
}
