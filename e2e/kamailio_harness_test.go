package e2e

import (
	"context"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// The provider in trunk tests lives on 127.0.0.2 (Kamailio and the SIPp
// parties behind it), the office on 127.0.0.1 (deskpbx and its phones),
// and a scanner on 127.0.0.3: Linux routes all of 127.0.0.0/8 to lo, so
// deskpbx sees three distinct source addresses.
const (
	providerIP = "127.0.0.2"
	scannerIP  = "127.0.0.3"
)

// requireKamailio skips the test when kamailio is missing, or fails it
// when the environment says peers must be there.
func requireKamailio(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kamailio")
	if err == nil {
		return p
	}
	const msg = "kamailio is not installed (Debian: apt-get install kamailio kamailio-sqlite-modules, or run scripts/test-deps.sh)"
	if os.Getenv("DESKPBX_REQUIRE_PEERS") != "" {
		t.Fatal(msg + "; DESKPBX_REQUIRE_PEERS is set, so this is a failure")
	}
	t.Skip(msg)
	return ""
}

// kamailio is the provider's process, started from test/kamailio/provider.cfg.
type kamailio struct {
	t    *testing.T
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startKamailio writes the provider config with vars (@NAME@ -> value),
// starts kamailio in the foreground and waits until its port is bound.
// With vars["LISTEN_TCP"] (tcp:IP:PORT) it listens on TCP there too.
func startKamailio(t *testing.T, bin string, port int, vars map[string]string) *kamailio {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(scenarioDir, "..", "kamailio", "provider.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(src)
	vars["LISTEN"] = "udp:" + providerIP + ":" + strconv.Itoa(port)
	for k, v := range vars {
		cfg = strings.ReplaceAll(cfg, "@"+k+"@", v)
	}
	cfgPath := filepath.Join(dir, "provider.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	k := &kamailio{t: t, log: filepath.Join(dir, "kamailio.log"), done: make(chan struct{})}
	out, err := os.Create(k.log)
	if err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.Mkdir(run, 0o700)
	args := []string{"-DD", "-E", "-f", cfgPath, "-Y", run, "-P", filepath.Join(dir, "kamailio.pid"), "-m", "64", "-M", "8"}
	if vars["LISTEN_TCP"] != "" {
		args = append(args, "-A", "WITH_TCP")
	}
	k.cmd = exec.Command(bin, args...)
	k.cmd.Stdout, k.cmd.Stderr = out, out
	k.cmd.Env = cleanEnv()
	if err := k.cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting kamailio: %v", err)
	}
	go func() { k.cmd.Wait(); out.Close(); close(k.done) }()
	t.Cleanup(func() {
		k.stop()
		if t.Failed() {
			if b, err := os.ReadFile(k.log); err == nil {
				t.Logf("---- kamailio log ----\n%s", tail(b, 32<<10))
			}
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.ListenPacket("udp4", providerIP+":"+strconv.Itoa(port))
		if err != nil {
			return k // bound by kamailio
		}
		c.Close()
		select {
		case <-k.done:
			b, _ := os.ReadFile(k.log)
			t.Fatalf("kamailio exited while starting:\n%s", tail(b, 8<<10))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("kamailio did not bind its port within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends kamailio by its PID (and its workers with it).
func (k *kamailio) stop() {
	select {
	case <-k.done:
		return
	default:
	}
	k.cmd.Process.Signal(os.Interrupt)
	select {
	case <-k.done:
	case <-time.After(10 * time.Second):
		k.cmd.Process.Kill()
		<-k.done
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// rtpEcho is the outside callee's media: a socket on the provider's
// address that counts the RTP packets reaching it and sends each back
// where it came from.
type rtpEcho struct {
	conn     *net.UDPConn
	received atomic.Int64
	events   atomic.Int64 // RFC 4733 packets (payload type 101) among them

	mu           sync.Mutex
	samples      int     // µ-law samples received (payload type 0)
	sumOfSquares float64 // of those samples, scaled to -1..1
}

func newRTPEcho(t *testing.T) *rtpEcho { return newRTPEchoOn(t, providerIP) }

// newRTPEchoOn is an rtpEcho on ip.
func newRTPEchoOn(t *testing.T, ip string) *rtpEcho {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	e := &rtpEcho{conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(buf[:n]) != nil {
				continue
			}
			e.received.Add(1)
			switch pkt.PayloadType {
			case 101:
				e.events.Add(1)
			case 0:
				e.mu.Lock()
				for _, b := range pkt.Payload {
					v := float64(g711.DecodeUlawFrame(b)) / 32768
					e.sumOfSquares += v * v
				}
				e.samples += len(pkt.Payload)
				e.mu.Unlock()
			}
			conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return e
}

func (e *rtpEcho) port() int { return e.conn.LocalAddr().(*net.UDPAddr).Port }

// rms is the level (0..1) of the µ-law audio received so far.
func (e *rtpEcho) rms() float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.samples == 0 {
		return 0
	}
	return math.Sqrt(e.sumOfSquares / float64(e.samples))
}

// startOutsideCallee is the outside callee behind the provider: SIPp
// answering calls calls on providerIP:port with its media at an rtpEcho,
// started once the port is bound.
func startOutsideCallee(t *testing.T, port, calls int) (*sipp, *rtpEcho) {
	t.Helper()
	echo := newRTPEcho(t)
	callee := startSIPp(t, "callee", "trunk_callee.xml", port, "", calls,
		"-i", providerIP, "-key", "rtp_ip", providerIP, "-key", "rtp_port", strconv.Itoa(echo.port()))
	waitBound(t, providerIP, port)
	return callee, echo
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within %v", what, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
