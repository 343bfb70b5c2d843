package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Generous bounds: CI is a loaded 2-core machine running other packages'
// tests (with -race) at the same time. Nothing here asserts on timing.
const (
	startTimeout = 60 * time.Second // deskpbx answering its healthcheck
	stopTimeout  = 60 * time.Second // deskpbx exiting after SIGTERM (it allows itself 15 s)
	sippTimeout  = 60               // seconds: SIPp's own -timeout, with -timeout_error
	sippWait     = 120 * time.Second
)

var (
	pbxBin      string // the deskpbx binary built by TestMain
	sippBin     string // "" when sipp is not installed
	scenarioDir string // test/sipp, absolute
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := filepath.Abs("..")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	scenarioDir = filepath.Join(root, "test", "sipp")
	tmp, err := os.MkdirTemp("", "deskpbx-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	pbxBin = filepath.Join(tmp, "deskpbx")
	args := []string{"build", "-o", pbxBin}
	if os.Getenv("DESKPBX_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	build := exec.Command(goTool, append(args, "./cmd/deskpbx")...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building deskpbx: %v\n%s", err, out)
		return 1
	}
	if p, err := exec.LookPath("sipp"); err == nil {
		sippBin = p
	}
	return m.Run()
}

// requireSIPp skips the test when sipp is missing, or fails it when the
// environment says peers must be there (DESKPBX_REQUIRE_PEERS, set in CI).
func requireSIPp(t *testing.T) {
	t.Helper()
	if sippBin != "" {
		return
	}
	const msg = "sipp is not installed (Debian: apt-get install sip-tester, or run scripts/test-deps.sh)"
	if os.Getenv("DESKPBX_REQUIRE_PEERS") != "" {
		t.Fatal(msg + "; DESKPBX_REQUIRE_PEERS is set, so this is a failure")
	}
	t.Skip(msg)
}

// freePort returns a port free for both UDP and TCP on 127.0.0.1 (deskpbx
// listens on both; SIPp on UDP), drawn from testPortBand. A port the kernel
// handed out for ":0" was taken again, before the peer given it could bind
// it, by another package's test binary binding ":0" in the meantime (go
// test runs packages side by side): SIPp then failed with "Unable to bind
// main socket", and baresip once ran without its console. Below the
// kernel's ephemeral range no ":0" lands, and no other test uses a fixed
// port there.
func freePort(t *testing.T) int {
	t.Helper()
	for range 200 {
		port := testPortBand[0] + rand.IntN(testPortBand[1]-testPortBand[0])
		c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(port))
		c.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port on 127.0.0.1")
	return 0
}

// testPortBand is where freePort draws: below Linux's default ephemeral
// range (32768-60999) and the RTP ranges other packages' tests fix
// (30000-33199).
var testPortBand = [2]int{20000, 29900}

// freeRange returns n consecutive UDP ports free on 127.0.0.1 right now,
// as "LO-HI" for -rtp-ports.
func freeRange(t *testing.T, n int) string {
	t.Helper()
	lo := freePorts(t, n, false)
	return fmt.Sprintf("%d-%d", lo, lo+n-1)
}

// freePorts returns the first of n consecutive ports free for UDP, and
// for TCP too if tcp, on 127.0.0.1 (baresip opens UDP and TCP on its SIP
// port and TLS on the next one).
func freePorts(t *testing.T, n int, tcp bool) int {
	t.Helper()
	for range 200 {
		lo := freePort(t)
		if lo+n-1 > 65535 {
			continue
		}
		ok := true
		for p := lo + 1; p < lo+n && ok; p++ {
			ok = portFree(p, tcp)
		}
		if ok {
			return lo
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1", n)
	return 0
}

// portFree says whether port p of 127.0.0.1 is free for UDP (and TCP).
func portFree(p int, tcp bool) bool {
	c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	defer c.Close()
	if !tcp {
		return true
	}
	l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		return false
	}
	return l.Close() == nil
}

// cleanEnv is the environment for subprocesses without DESKPBX_*
// variables, so a developer's settings cannot change what a test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DESKPBX_") {
			env = append(env, kv)
		}
	}
	return env
}

// pbx is one deskpbx database and the server processes run on it.
type pbx struct {
	t        *testing.T
	dir      string
	db       string
	sipAddr  string
	httpAddr string
	rtpPorts string

	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{}
	waitErr error
	logs    []string // one stderr log file per start
}

// newPBX creates a database with tenant domain and no server yet. The
// server's address stays the same across restarts.
func newPBX(t *testing.T, domain string) *pbx {
	t.Helper()
	dir := t.TempDir()
	p := &pbx{
		t:        t,
		dir:      dir,
		db:       filepath.Join(dir, "deskpbx.db"),
		sipAddr:  "127.0.0.1:" + strconv.Itoa(freePort(t)),
		httpAddr: "127.0.0.1:" + strconv.Itoa(freePort(t)),
		rtpPorts: freeRange(t, 20),
	}
	// Cleanups run last-in first-out: the logs are shown after the stop.
	t.Cleanup(p.dumpLogsIfFailed)
	t.Cleanup(func() {
		if p.running() {
			p.stop()
		}
	})
	p.cli("tenant", "add", "-db", p.db, domain)
	return p
}

// cli runs a deskpbx admin command on the database and fails the test
// if it fails.
func (p *pbx) cli(args ...string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pbxBin, args...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("deskpbx %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// addExt adds one extension with deskpbx ext add.
func (p *pbx) addExt(domain, number, password string) {
	p.t.Helper()
	p.cli("ext", "add", "-db", p.db, "-password", password, "-name", "Ext "+number, domain, number)
}

// importExts provisions extensions through deskpbx ext import.
func (p *pbx) importExts(rows [][5]string) {
	p.t.Helper()
	var b strings.Builder
	b.WriteString("domain,number,password,pin,name\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r[:], ",") + "\n")
	}
	f := filepath.Join(p.dir, "users.csv")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.cli("ext", "import", "-db", p.db, f)
}

func (p *pbx) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// start runs deskpbx serve and waits until it has started: its
// healthcheck passes and it has logged that it is running.
//
// The second wait works around a deskpbx bug: serve answers SIP (so the
// healthcheck passes) before it has finished starting (on a new database
// it still creates the first admin, a slow bcrypt), and a SIGTERM in that
// window makes it exit 1 with "creating the first admin: context
// canceled". TestStopRightAfterHealthcheck shows it.
func (p *pbx) start() {
	p.t.Helper()
	p.startHealthy()
	p.waitLog(startTimeout, `msg="deskpbx running"`)
}

// startHealthy runs deskpbx serve and waits until deskpbx healthcheck
// passes.
func (p *pbx) startHealthy() {
	p.t.Helper()
	if p.running() {
		p.t.Fatal("deskpbx is already running")
	}
	logPath := filepath.Join(p.dir, fmt.Sprintf("serve-%d.log", len(p.logs)+1))
	logFile, err := os.Create(logPath)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(pbxBin, "serve",
		"-db", p.db,
		"-sip-addr", p.sipAddr,
		"-http-addr", p.httpAddr,
		"-rtp-ports", p.rtpPorts,
		"-log-level", "debug")
	cmd.Env = cleanEnv()
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		p.t.Fatalf("starting deskpbx: %v", err)
	}
	exited := make(chan struct{})
	p.mu.Lock()
	p.proc, p.exited, p.waitErr = cmd, exited, nil
	p.logs = append(p.logs, logPath)
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logFile.Close()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(exited)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			p.t.Fatalf("deskpbx exited while starting: %v", p.exitErr())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		hc := exec.CommandContext(ctx, pbxBin, "healthcheck", "-sip-addr", p.sipAddr)
		hc.Env = cleanEnv()
		out, err := hc.CombinedOutput()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deskpbx healthcheck still failing after %v: %v\n%s", startTimeout, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *pbx) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
}

// stop sends SIGTERM and requires a clean exit (status 0) in time.
func (p *pbx) stop() {
	p.t.Helper()
	p.mu.Lock()
	cmd, exited := p.proc, p.exited
	p.mu.Unlock()
	if cmd == nil {
		p.t.Fatal("deskpbx was never started")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("SIGTERM to deskpbx: %v", err)
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		cmd.Process.Kill()
		<-exited
		p.t.Fatalf("deskpbx did not exit within %v of SIGTERM (killed)", stopTimeout)
	}
	if err := p.exitErr(); err != nil {
		p.t.Errorf("deskpbx did not exit cleanly after SIGTERM: %v", err)
	}
}

// waitLog waits until the current server's log has a line containing
// every one of parts.
func (p *pbx) waitLog(timeout time.Duration, parts ...string) {
	p.t.Helper()
	p.mu.Lock()
	path := p.logs[len(p.logs)-1]
	p.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		if logHas(path, parts) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deskpbx logged no line with %q within %v", parts, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func logHas(path string, parts []string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
lines:
	for sc.Scan() {
		for _, s := range parts {
			if !strings.Contains(sc.Text(), s) {
				continue lines
			}
		}
		return true
	}
	return false
}

func (p *pbx) dumpLogsIfFailed() {
	if !p.t.Failed() {
		return
	}
	for _, l := range p.logs {
		b, err := os.ReadFile(l)
		if err != nil {
			p.t.Logf("deskpbx log %s: %v", filepath.Base(l), err)
			continue
		}
		p.t.Logf("---- deskpbx stderr (%s) ----\n%s", filepath.Base(l), b)
	}
}

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
		// SIPp binds audio RTP on -mp and video on -mp+2 (with RTCP on
		// the odd ones): all four must be free, not only the first.
		"-mp", strconv.Itoa(freePorts(t, 4, false)),
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

// registered registers u from a free port, as register does, and returns
// the port: the phone's SIPp answers calls there.
func registered(t *testing.T, p *pbx, u user) int {
	t.Helper()
	port := freePort(t)
	register(t, p, u, port)
	return port
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

// baresip 1.0.0 (Debian baresip-core) as a headless softphone: audio in
// from a WAV file (aufile), out to ALSA's null device, optionally recorded
// (sndfile: one WAV per direction per call), driven through its UDP
// console (cons). It sends DTMF as RFC 4733 only.

var (
	baresipOnce sync.Once
	baresipBin  string
)

// requireBaresip skips the test when baresip is missing, or fails it when
// DESKPBX_REQUIRE_PEERS is set, as requireSIPp does.
func requireBaresip(t *testing.T) {
	t.Helper()
	baresipOnce.Do(func() {
		p, err := exec.LookPath("baresip")
		if err != nil {
			return
		}
		for _, m := range []string{"aufile.so", "cons.so", "g711.so", "alsa.so", "sndfile.so", "account.so", "menu.so"} {
			if _, err := os.Stat(filepath.Join(baresipModules, m)); err != nil {
				return
			}
		}
		baresipBin = p
	})
	if baresipBin != "" {
		return
	}
	const msg = "baresip 1.0 with its aufile, cons, g711, alsa, sndfile, account and menu modules in " + baresipModules +
		" is not installed (Debian: apt-get install baresip-core, or run scripts/test-deps.sh)"
	if os.Getenv("DESKPBX_REQUIRE_PEERS") != "" {
		t.Fatal(msg + "; DESKPBX_REQUIRE_PEERS is set, so this is a failure")
	}
	t.Skip(msg)
}

const baresipModules = "/usr/lib/baresip/modules"

// baresipOpts configures one baresip phone.
type baresipOpts struct {
	source string // WAV file it sends as its microphone; it must outlast every call (at its end baresip hangs up)
	record bool   // record each call's audio (sndfile) under dir/rec
}

type baresip struct {
	t        *testing.T
	name     string
	dir      string
	out      string // stdout and stderr
	recDir   string
	sipPort  int
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	console  *net.UDPConn
	consMu   sync.Mutex
	consLog  bytes.Buffer // what the console answered
	consDone chan struct{}
	stopOnce sync.Once
}

// startBaresip runs baresip registered as u at p (the outbound proxy is
// the PBX, so the domain needs no DNS) and waits for its registration.
// It answers incoming calls by itself (answermode=auto).
func startBaresip(t *testing.T, p *pbx, u user, o baresipOpts) *baresip {
	t.Helper()
	dir := t.TempDir()
	b := &baresip{t: t, name: "baresip-" + u.number, dir: dir, out: filepath.Join(dir, "baresip.log"),
		recDir: filepath.Join(dir, "rec"), done: make(chan struct{}), consDone: make(chan struct{})}
	if err := os.MkdirAll(b.recDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// SIP on UDP and TCP at the port, TLS at the next one.
	b.sipPort = freePorts(t, 2, true)
	consPort := freePort(t)
	rtp := freeRange(t, 10)
	modules := []string{"g711.so", "aufile.so", "alsa.so", "cons.so"}
	if o.record {
		modules = append(modules, "sndfile.so")
	}
	var cfg strings.Builder
	fmt.Fprintf(&cfg, `poll_method		epoll
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
call_local_timeout	60
call_max_calls		4
audio_player		alsa,null
audio_alert		alsa,null
audio_source		aufile,%s
audio_level		no
ausrc_format		s16
auplay_format		s16
auenc_format		s16
audec_format		s16
audio_buffer		20-160
rtp_ports		%s
rtp_tos			0
rtcp_mux		no
jitter_buffer_delay	5-10
rtp_stats		yes
module_path		%s
`, b.sipPort, o.source, rtp, baresipModules)
	for _, m := range modules {
		fmt.Fprintf(&cfg, "module\t\t\t%s\n", m)
	}
	fmt.Fprintf(&cfg, `module_tmp		uuid.so
module_tmp		account.so
module_app		menu.so
cons_listen		127.0.0.1:%d
snd_path		%s
`, consPort, b.recDir)
	// baresip 1.0 account line: the AOR, then ;params. The outbound proxy
	// sends everything to the PBX's address.
	account := fmt.Sprintf("<sip:%s@%s>;auth_user=%s;auth_pass=%s;outbound=\"sip:%s;transport=udp\";regint=600;answermode=auto\n",
		u.number, u.domain, u.number, u.password, p.sipAddr)
	for name, body := range map[string]string{"config": cfg.String(), "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	logFile, err := os.Create(b.out)
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(baresipBin, "-f", dir)
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	b.cmd.Env = append(cleanEnv(), "HOME="+home)
	b.cmd.Dir = dir
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	if err := b.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting baresip: %v", err)
	}
	go func() {
		b.waitErr = b.cmd.Wait()
		logFile.Close()
		close(b.done)
	}()
	t.Cleanup(b.stop)

	b.console, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: consPort})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(b.consDone)
		buf := make([]byte, 64<<10)
		for {
			n, err := b.console.Read(buf)
			if n > 0 {
				b.consMu.Lock()
				b.consLog.Write(buf[:n])
				b.consMu.Unlock()
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				// ICMP port unreachable while cons was not listening yet.
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	b.waitOutput(0, 60*time.Second, fmt.Sprintf("%s@%s: {0/UDP/v4} 200 OK", u.number, u.domain))
	return b
}

// command sends one console command, e.g. "/dial *44". One socket for
// every command: cons keeps a line editor per client address.
func (b *baresip) command(cmd string) {
	b.t.Helper()
	if _, err := b.console.Write([]byte(cmd + "\n")); err != nil {
		b.t.Fatalf("baresip console %q: %v", cmd, err)
	}
}

// mark is the current length of baresip's output, for waitOutput to look
// only at what comes after it.
// dial calls code and waits until the call is up; it returns the mark
// of the output before the dial.
func (b *baresip) dial(code string) int {
	m := b.mark()
	b.command("/dial " + code)
	b.waitOutput(m, 30*time.Second, "Call established")
	return m
}

func (b *baresip) mark() int {
	fi, err := os.Stat(b.out)
	if err != nil {
		return 0
	}
	return int(fi.Size())
}

// waitOutput waits until baresip's output after from has s; it fails the
// test if baresip exits or timeout passes first.
func (b *baresip) waitOutput(from int, timeout time.Duration, s string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if out, err := os.ReadFile(b.out); err == nil && from <= len(out) && bytes.Contains(out[from:], []byte(s)) {
			return
		}
		select {
		case <-b.done:
			b.t.Fatalf("%s exited (%v) before printing %q", b.name, b.waitErr, s)
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s did not print %q within %v", b.name, s, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// recordings returns the WAV files sndfile wrote for decoded (received) audio.
func (b *baresip) recordings() []string {
	m, _ := filepath.Glob(filepath.Join(b.recDir, "*-dec.wav"))
	return m
}

// stop quits baresip (console "/quit", then SIGKILL after 10 s) and shows
// its output and console replies if the test failed. Stop it before the
// PBX: it unregisters on its way out, and waits for the answer.
func (b *baresip) stop() { b.stopOnce.Do(b.doStop) }

func (b *baresip) doStop() {
	select {
	case <-b.done:
	default:
		b.console.Write([]byte("/quit\n"))
		select {
		case <-b.done:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-b.done
		}
	}
	b.console.Close()
	<-b.consDone
	if b.t.Failed() {
		out, _ := os.ReadFile(b.out)
		// The call statistics line is rewritten with \r many times a second.
		out = bytes.ReplaceAll(out, []byte("\r"), []byte("\n"))
		if len(out) > 64<<10 {
			out = append([]byte("...\n"), out[len(out)-64<<10:]...)
		}
		b.t.Logf("---- %s output (exit: %v) ----\n%s", b.name, b.waitErr, out)
		b.consMu.Lock()
		b.t.Logf("---- %s console replies ----\n%s", b.name, b.consLog.String())
		b.consMu.Unlock()
	}
}
