package lamps_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/testphone"
)

// sippSubscriber runs test/sipp/subscribe_dialog.xml as extension 1004
// watching target, over TCP, and returns its message log and its exit.
func sippSubscriber(t *testing.T, o *office, target string) (msgLog string, done <-chan error) {
	t.Helper()
	bin := peer(t, "sipp", "sip-tester")
	scenario, err := filepath.Abs(filepath.Join("..", "..", "test", "sipp", "subscribe_dialog.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inf := filepath.Join(dir, "users.csv")
	row := fmt.Sprintf("SEQUENTIAL\n1004;acme.example;[authentication username=1004 password=pw-1004-x];%s\n", target)
	if err := os.WriteFile(inf, []byte(row), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	msgLog = filepath.Join(dir, "messages.log")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	cmd := exec.CommandContext(ctx, bin, "-nostdin", "-sf", scenario,
		"-inf", inf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", "t1", "-m", "1",
		"-timeout", "60s", "-timeout_error", "-trace_msg", "-message_file", msgLog,
		"-trace_err", "-error_file", filepath.Join(dir, "errors.log"), o.srv.SIPAddr())
	cmd.Dir = dir
	out, err := os.Create(filepath.Join(dir, "screen.out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() { ch <- cmd.Wait(); out.Close() }()
	t.Cleanup(func() {
		cancel()
		if t.Failed() {
			for _, f := range []string{"screen.out", "errors.log", "messages.log"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				t.Logf("sipp %s:\n%s", f, b)
			}
		}
	})
	return msgLog, ch
}

// after waits (bounded) until out() has s after its first from bytes,
// and returns where s ends.
func after(t *testing.T, out func() string, from int, s string) int {
	t.Helper()
	end := -1
	until(t, fmt.Sprintf("%q to be printed", s), func() bool {
		o := out()
		if i := strings.Index(o[min(from, len(o)):], s); i >= 0 && from <= len(o) {
			end = from + i + len(s)
			return true
		}
		return false
	})
	return end
}

// until polls cond (bounded): how long deskpbx and SIPp take is not
// what these tests assert.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 1000 {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSIPpBusyLampSeesAHotDeskedPersonsCallAndTheSeatStaysIdle(t *testing.T) {
	o, desk, grace, adaKey, deskKey := adaAtTheDesk(t)
	msgLog, done := sippSubscriber(t, o, "1001")
	until(t, "SIPp's subscription", func() bool { return o.srv.Subscriptions() == 3 })

	// Each state must reach SIPp before the call moves on, or its NOTIFY
	// would carry the next state instead (NOTIFYs carry the state as it
	// is when sent).
	seen := func(stage string) bool {
		b, _ := os.ReadFile(msgLog)
		return strings.Contains(string(b), "<state>"+stage+"</state>")
	}
	converse(t, grace, desk, "1001", func(stage string) {
		adaKey.Next()
		until(t, "SIPp's "+stage+" NOTIFY", func() bool { return seen(stage) })
	})
	if err := testphone.Await(t, done, "SIPp to un-subscribe and exit"); err != nil {
		t.Fatalf("SIPp subscriber failed: %v", err)
	}
	// Over TCP, deskpbx's NOTIFYs must come back on the connection SIPp
	// opened, whose deskpbx end is the SIP listener's port.
	b, _ := os.ReadFile(msgLog)
	if via := "Via: SIP/2.0/TCP " + o.srv.SIPAddr(); strings.Count(string(b), via) < 5 {
		t.Fatalf("SIPp got fewer than 5 NOTIFYs with %q (sent on its own connection)", via)
	}
	select {
	case n := <-deskKey.Notifies:
		t.Fatalf("the seat's own lamp changed while Ada talked there: %s", n.Body())
	default:
	}
}
