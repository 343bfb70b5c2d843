package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
// listens on both; SIPp on UDP). Another process could take it before it
// is used; on loopback in a test that is rare enough.
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
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

// freeRange returns n consecutive UDP ports free on 127.0.0.1 right now,
// as "LO-HI" for -rtp-ports.
func freeRange(t *testing.T, n int) string {
	t.Helper()
	for range 200 {
		lo := freePort(t)
		if lo+n-1 > 65535 {
			continue
		}
		ok := true
		for p := lo + 1; p < lo+n && ok; p++ {
			c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			c.Close()
		}
		if ok {
			return fmt.Sprintf("%d-%d", lo, lo+n-1)
		}
	}
	t.Fatal("no free RTP port range on 127.0.0.1")
	return ""
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
