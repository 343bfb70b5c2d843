package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

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
	b.sipPort = freePorts(t, 2)
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
