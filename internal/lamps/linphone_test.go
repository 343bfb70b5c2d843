package lamps_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// linphonec is linphonec 5.1 (Debian linphone-cli) registered as one
// extension, driven on its standard input.
type linphonec struct {
	t     *testing.T
	stdin io.WriteCloser
	mu    sync.Mutex
	out   bytes.Buffer
}

func (l *linphonec) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.Write(p)
}

func (l *linphonec) output() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.out.String()
}

func startLinphonec(t *testing.T, o *office, number string, friends ...string) *linphonec {
	t.Helper()
	bin := peer(t, "linphonec", "linphone-cli")
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	var rc strings.Builder
	fmt.Fprintf(&rc, "[sip]\nsip_port=%d\nsip_tcp_port=-1\nsip_tls_port=-1\nbind_address=127.0.0.1\ndefault_proxy=0\n"+
		"[sound]\nplayback_dev_id=\ncapture_dev_id=\n"+
		"[proxy_0]\nreg_proxy=<sip:%s;transport=udp>\nreg_route=<sip:%s;transport=udp;lr>\nreg_identity=sip:%s@acme.example\n"+
		"reg_expires=600\nreg_sendregister=1\npublish=0\n"+
		"[auth_info_0]\nusername=%s\npasswd=pw-%s-x\nrealm=acme.example\ndomain=acme.example\n",
		port, o.srv.SIPAddr(), o.srv.SIPAddr(), number, number, number)
	for i, f := range friends {
		fmt.Fprintf(&rc, "[friend_%d]\nurl=\"%s\" <sip:%s@acme.example>\npol=accept\nsubscribe=1\n", i, f, f)
	}
	conf := filepath.Join(dir, "linphonerc")
	if err := os.WriteFile(conf, []byte(rc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &linphonec{t: t}
	cmd := exec.Command(bin, "-c", conf)
	cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin"}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = l, l
	if l.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		io.WriteString(l.stdin, "quit\n")
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("linphonec %s output:\n%s", number, l.output())
		}
	})
	io.WriteString(l.stdin, "soundcard use files\n")
	return l
}

func TestLinphonecSeesAPersonGoOnThePhoneAndBack(t *testing.T) {
	o := newOffice(t)
	ada, grace := o.registered("1001"), o.registered("1002")
	l := startLinphonec(t, o, "1004", "1001")
	at := after(t, l.output, 0, `Friend "1001" <sip:1001@acme.example> is Online`)
	converse(t, ada, grace, "1002", func(stage string) {
		if stage == "confirmed" {
			at = after(t, l.output, at, `Friend "1001" <sip:1001@acme.example> is On the phone`)
		}
	})
	after(t, l.output, at, `Friend "1001" <sip:1001@acme.example> is Online`)
}
