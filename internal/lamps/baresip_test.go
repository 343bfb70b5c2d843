package lamps_test

import (
	"bytes"
	"context"
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

// baresip is baresip 1.0 (Debian baresip-core) registered as one
// extension, with one app module (mwi: it subscribes to its own
// message-summary; presence: it subscribes to its presence=p2p contacts)
// and its console (cons) for commands.
type baresip struct {
	t       *testing.T
	log     string
	console *net.UDPConn
	mu      sync.Mutex
	replies bytes.Buffer
}

func startBaresip(t *testing.T, o *office, number, module string, watch ...string) *baresip {
	t.Helper()
	bin := peer(t, "baresip", "baresip-core")
	dir := t.TempDir()
	// SIP on UDP and TCP at one port, TLS at the next; the console on UDP.
	sipPort, consPort := freePorts(t)
	cfg := fmt.Sprintf("poll_method\tepoll\nsip_listen\t127.0.0.1:%d\nnet_interface\t127.0.0.1\n"+
		"audio_player\talsa,null\naudio_source\talsa,null\nmodule_path\t/usr/lib/baresip/modules\n"+
		// baresip 1.0's mwi module re-subscribes in an endless loop when
		// its start-up timer (1 ms) fires after the registration succeeded
		// (it appends to the list it walks): loaded first of all, its
		// timer is due long before a REGISTER can be answered.
		"module\t%s.so\nmodule\tg711.so\nmodule\talsa.so\nmodule\tcons.so\ncons_listen\t127.0.0.1:%d\n"+
		"module_tmp\tuuid.so\nmodule_tmp\taccount.so\nmodule_app\tcontact.so\nmodule_app\tmenu.so\n",
		sipPort, module, consPort)
	account := fmt.Sprintf("<sip:%s@acme.example>;auth_user=%s;auth_pass=pw-%s-x;outbound=\"sip:%s;transport=udp\";regint=600\n",
		number, number, number, o.srv.SIPAddr())
	var contacts strings.Builder
	for _, w := range watch {
		fmt.Fprintf(&contacts, "\"%s\" <sip:%s@acme.example>;presence=p2p\n", w, w)
	}
	for name, body := range map[string]string{"config": cfg, "accounts": account, "contacts": contacts.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := &baresip{t: t, log: filepath.Join(dir, "baresip.log")}
	f, err := os.Create(b.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", dir)
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); f.Close(); close(done) }()
	if b.console, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: consPort}); err != nil {
		t.Fatal(err)
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 64<<10)
		for {
			n, err := b.console.Read(buf)
			b.mu.Lock()
			b.replies.Write(buf[:n])
			b.mu.Unlock()
			if err != nil && strings.Contains(err.Error(), "closed") {
				return
			}
			if err != nil {
				time.Sleep(50 * time.Millisecond) // console not listening yet
			}
		}
	}()
	t.Cleanup(func() {
		// Stopped before the PBX (cleanups run last first): baresip
		// unsubscribes and unregisters on its way out.
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		b.console.Close()
		<-readerDone
		if t.Failed() {
			t.Logf("baresip %s output:\n%s\nconsole:\n%s", number, b.output(), b.consoleOutput())
		}
	})
	b.after(0, "200 OK")
	return b
}

// freePorts finds a port p with p+1 free too (for baresip's TLS) and a
// third for the console.
func freePorts(t *testing.T) (sip, console int) {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		c, cerr := net.ListenPacket("udp", "127.0.0.1:0")
		l.Close()
		if err == nil {
			l2.Close()
		}
		if cerr != nil {
			t.Fatal(cerr)
		}
		console = c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if err == nil && console != p && console != p+1 {
			return p, console
		}
	}
	t.Fatal("no free ports for baresip")
	return 0, 0
}

func (b *baresip) output() string {
	out, _ := os.ReadFile(b.log)
	return string(bytes.ReplaceAll(out, []byte("\r"), []byte("\n")))
}

func (b *baresip) consoleOutput() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replies.String()
}

// after waits (bounded) until baresip's output has s after its first
// from bytes, and returns where s ends.
func (b *baresip) after(from int, s string) int {
	b.t.Helper()
	return after(b.t, b.output, from, s)
}

// contacts asks baresip for its contact list (with presence) until a
// line mentioning number has want in it.
func (b *baresip) contacts(number, want string) {
	b.t.Helper()
	until(b.t, fmt.Sprintf("baresip to list %s as %q", number, want), func() bool {
		b.mu.Lock()
		b.replies.Reset()
		b.mu.Unlock()
		b.console.Write([]byte("/contacts\n"))
		time.Sleep(100 * time.Millisecond)
		for _, line := range strings.Split(b.consoleOutput(), "\n") {
			if strings.Contains(line, number) && strings.Contains(line, want) {
				return true
			}
		}
		return false
	})
}

func TestBaresipShowsTheMessageLightOfWhoeverSitsAtIt(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	o.boxes.set("1001@acme.example", 2, 1)
	phone := startBaresip(t, o, "1003", "mwi")
	at := phone.after(0, "Messages-Waiting: no")
	at = phone.after(at, "Message-Account: sip:1003@acme.example")

	o.sitAt("1003")
	o.lights.SeatChanged(ctx, o.ext("1003"))
	at = phone.after(at, "Messages-Waiting: yes")
	at = phone.after(at, "Message-Account: sip:1001@acme.example")
	at = phone.after(at, "Voice-Message: 2/1 (0/0)")

	if _, err := o.hd.Logout(ctx, "5551234", "4826", o.ext("1003"), "127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	o.lights.SeatChanged(ctx, o.ext("1003"))
	at = phone.after(at, "Messages-Waiting: no")
	phone.after(at, "Message-Account: sip:1003@acme.example")
}

func TestBaresipSeesAPersonGoBusyAndBack(t *testing.T) {
	o := newOffice(t)
	ada, grace := o.registered("1001"), o.registered("1002")
	phone := startBaresip(t, o, "1004", "presence", "1001")
	phone.contacts("1001", "Online")
	converse(t, ada, grace, "1002", func(stage string) {
		if stage == "confirmed" {
			phone.contacts("1001", "Busy")
		}
	})
	phone.contacts("1001", "Online")
}
