package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// user is one SIPp injection line: who the phone is and, for callers,
// whom it calls.
type user struct {
	number, domain, password string
	callee                   string // uac_auth*.xml only
}

// writeInf writes a SIPp injection file for the test/sipp scenarios:
// number;domain;[authentication ...];callee. SIPp 3.6 does not expand
// [fieldN] inside [authentication], so the whole keyword is one field.
func writeInf(t *testing.T, dir, name string, users ...user) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("SEQUENTIAL\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%s;%s;[authentication username=%s password=%s];%s\n",
			u.number, u.domain, u.number, u.password, u.callee)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sipp is one SIPp process running a scenario from test/sipp with -m
// calls, bounded by its own -timeout and by sippWait.
type sipp struct {
	t        *testing.T
	name     string
	port     int
	cmd      *exec.Cmd
	files    map[string]string // out, stat, msg, err
	done     chan struct{}
	waitErr  error
	cancel   context.CancelFunc
	reported bool
}

// startSIPp starts sipp on 127.0.0.1:port with scenario (a file name in
// test/sipp) and returns without waiting. remote is the deskpbx address
// for scenarios that start by sending; "" for the UAS.
func startSIPp(t *testing.T, name, scenario string, port int, remote string, calls int, extra ...string) *sipp {
	t.Helper()
	dir := t.TempDir()
	s := &sipp{t: t, name: name, port: port, done: make(chan struct{}), files: map[string]string{
		"screen": filepath.Join(dir, name+".out"),
		"stat":   filepath.Join(dir, name+"_stat.csv"),
		"msg":    filepath.Join(dir, name+"_messages.log"),
		"err":    filepath.Join(dir, name+"_errors.log"),
	}}
	args := []string{
		"-nostdin",
		"-sf", filepath.Join(scenarioDir, scenario),
		"-i", "127.0.0.1",
		"-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(freePort(t)),
		"-t", "u1",
		"-m", strconv.Itoa(calls),
		"-timeout", strconv.Itoa(sippTimeout) + "s", "-timeout_error",
		"-trace_stat", "-stf", s.files["stat"],
		"-trace_msg", "-message_file", s.files["msg"],
		"-trace_err", "-error_file", s.files["err"],
	}
	args = append(args, extra...)
	if remote != "" {
		args = append(args, remote)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sippWait)
	s.cancel = cancel
	s.cmd = exec.CommandContext(ctx, sippBin, args...)
	s.cmd.Dir = dir
	s.cmd.Env = cleanEnv()
	out, err := os.Create(s.files["screen"])
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	if err := s.cmd.Start(); err != nil {
		out.Close()
		cancel()
		t.Fatalf("starting sipp %s: %v", name, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		out.Close()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
		cancel()
		if t.Failed() && !s.reported {
			s.report()
		}
	})
	return s
}

// waitListening waits until sipp has bound its UDP port, so a call
// sent to it is queued by the kernel rather than refused.
func (s *sipp) waitListening() {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-s.done:
			s.report()
			s.t.Fatalf("sipp %s exited before listening: %v", s.name, s.waitErr)
		default:
		}
		c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(s.port))
		if err != nil {
			return // taken: sipp has it
		}
		c.Close()
		if time.Now().After(deadline) {
			s.t.Fatalf("sipp %s did not bind 127.0.0.1:%d within 30s", s.name, s.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sippStats is the last line of SIPp's -trace_stat file.
type sippStats map[string]string

func (st sippStats) count(col string) int {
	n, err := strconv.Atoi(st[col])
	if err != nil {
		return -1
	}
	return n
}

func readStats(path string) (sippStats, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: no statistics line", filepath.Base(path))
	}
	head := strings.Split(strings.TrimSuffix(lines[0], ";"), ";")
	last := strings.Split(strings.TrimSuffix(lines[len(lines)-1], ";"), ";")
	st := sippStats{}
	for i, h := range head {
		if i < len(last) {
			st[h] = last[i]
		}
	}
	return st, nil
}

// wait waits for sipp to exit and requires exit status 0 with exactly
// want successful calls and no failed one.
func (s *sipp) wait(want int) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(sippWait + 10*time.Second):
		s.t.Fatalf("sipp %s still running after %v", s.name, sippWait)
	}
	var problems []string
	if s.waitErr != nil {
		var ee *exec.ExitError
		if errors.As(s.waitErr, &ee) {
			problems = append(problems, fmt.Sprintf("exit status %d (%s)", ee.ExitCode(), sippExitMeaning(ee.ExitCode())))
		} else {
			problems = append(problems, s.waitErr.Error())
		}
	}
	st, err := readStats(s.files["stat"])
	if err != nil {
		problems = append(problems, "statistics: "+err.Error())
	} else {
		if ok := st.count("SuccessfulCall(C)"); ok != want {
			problems = append(problems, fmt.Sprintf("%d successful calls, want %d", ok, want))
		}
		if bad := st.count("FailedCall(C)"); bad != 0 {
			problems = append(problems, fmt.Sprintf("%d failed calls", bad))
		}
	}
	if len(problems) > 0 {
		s.report()
		s.t.Fatalf("sipp %s: %s", s.name, strings.Join(problems, "; "))
	}
}

func sippExitMeaning(code int) string {
	switch code {
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command"
	case 99:
		return "normal exit without calls processed"
	case 255:
		return "fatal error"
	case 254:
		return "fatal error binding a socket"
	}
	return "unknown"
}

// report logs what sipp saw: its unexpected messages and its message
// trace (both are short for the few calls these tests make).
func (s *sipp) report() {
	s.reported = true
	for _, k := range []string{"err", "msg", "screen"} {
		b, err := os.ReadFile(s.files[k])
		if err != nil || len(b) == 0 {
			continue
		}
		if len(b) > 64<<10 {
			b = append([]byte("...\n"), b[len(b)-64<<10:]...)
		}
		s.t.Logf("---- sipp %s %s (%s) ----\n%s", s.name, k, filepath.Base(s.files[k]), b)
	}
}

// receivedVia returns the top Via of the first method request sipp
// received (from its -trace_msg file): where deskpbx says it sent from.
func (s *sipp) receivedVia(method string) string {
	s.t.Helper()
	b, err := os.ReadFile(s.files["msg"])
	if err != nil {
		s.t.Fatal(err)
	}
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, method+" sip:"):
			in = true
		case in && (strings.HasPrefix(line, "Via:") || strings.HasPrefix(line, "v:")):
			return line
		case in && line == "":
			in = false
		}
	}
	s.t.Fatalf("sipp %s received no %s", s.name, method)
	return ""
}

// checkSentFromSIPPort requires that deskpbx sent the calls' requests to
// the callee from its own SIP address (design: NAT pinholes stay open).
func checkSentFromSIPPort(t *testing.T, p *pbx, callee *sipp) {
	t.Helper()
	for _, m := range []string{"INVITE", "BYE"} {
		via := callee.receivedVia(m)
		if !strings.Contains(via, " "+p.sipAddr+";") && !strings.HasSuffix(via, " "+p.sipAddr) {
			t.Errorf("deskpbx sent %s to the callee with %q: not from its SIP address %s", m, via, p.sipAddr)
		}
	}
}

// register runs one SIPp REGISTER with digest auth from 127.0.0.1:port
// and requires a 200; the binding's Contact is that port.
func register(t *testing.T, p *pbx, u user, port int) {
	t.Helper()
	inf := writeInf(t, t.TempDir(), "reg.csv", u)
	s := startSIPp(t, "register-"+u.number, "register.xml", port, p.sipAddr, 1, "-inf", inf)
	s.wait(1)
}

// startCallee registers u from a fresh port, then starts the SIPp UAS on
// that same port to answer one call, and waits until it listens.
func startCallee(t *testing.T, p *pbx, u user) *sipp {
	t.Helper()
	return startPhone(t, p, u, "uas.xml")
}

// startPhone registers u from a fresh port, then runs scenario (a
// called phone's) on that port, and waits until it listens.
func startPhone(t *testing.T, p *pbx, u user, scenario string, extra ...string) *sipp {
	t.Helper()
	port := freePort(t)
	register(t, p, u, port)
	s := startSIPp(t, strings.TrimSuffix(scenario, ".xml")+"-"+u.number, scenario, port, "", 1, extra...)
	s.waitListening()
	return s
}

// startCaller starts a SIPp caller with 407 authentication running
// scenario (uac_auth.xml or uac_auth_wait_bye.xml).
func startCaller(t *testing.T, p *pbx, u user, scenario string, extra ...string) *sipp {
	t.Helper()
	inf := writeInf(t, t.TempDir(), "call.csv", u)
	args := append([]string{"-inf", inf}, extra...)
	return startSIPp(t, "caller-"+u.number, scenario, freePort(t), p.sipAddr, 1, args...)
}
