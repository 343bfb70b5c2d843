package pbx

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// tcpPeer is one SIP TCP connection from a chosen loopback address.
type tcpPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialTCPFrom(t *testing.T, ip, server string) *tcpPeer {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp4", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &tcpPeer{t: t, conn: c, r: bufio.NewReader(c)}
}

// closedByServer waits (bounded) for the server to close the connection.
func (p *tcpPeer) closedByServer(within time.Duration) bool {
	p.conn.SetReadDeadline(time.Now().Add(within))
	for {
		_, err := p.r.ReadByte()
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || err != nil && strings.Contains(err.Error(), "reset") {
			return true
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return false
		}
		if err != nil {
			p.t.Fatal(err)
		}
	}
}

// exchange writes one request and reads one response head (our
// answers here carry no body).
func (p *tcpPeer) exchange(msg string) string {
	p.t.Helper()
	if _, err := io.WriteString(p.conn, msg); err != nil {
		p.t.Fatalf("write: %v", err)
	}
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var head strings.Builder
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			p.t.Fatalf("reading the answer: %v (so far %q)", err, head.String())
		}
		head.WriteString(line)
		if line == "\r\n" {
			return head.String()
		}
	}
}

func (p *tcpPeer) options(server string) string {
	return p.exchange(fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-tcp-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:probe@%s>;tag=t\r\nTo: <sip:%s>\r\nCall-ID: tcp-%d\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		server, p.conn.LocalAddr(), rawSeq.Add(1), server, server, rawSeq.Add(1)))
}

func withTCP(o *office, f func(*tcpListener)) {
	l := o.srv.tcp.(*tcpListener)
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// Issue 12, item 5: 800 idle SIP TCP connections were still held after
// 60 s, and one address could open as many as it liked. Now one address
// gets a capped number, and a connection idle too long is closed,
// unless a request on it authenticated (a phone's only way in behind
// NAT).
func TestTCPConnectionsAreCappedPerAddressAndClosedWhenIdle(t *testing.T) {
	o := newOffice(t)
	srv := o.srv.SIPAddr()
	const perAddr = 5
	withTCP(o, func(l *tcpListener) { l.perAddr, l.idle = perAddr, 300*time.Millisecond })

	// The cap: of 8 connections from one address, the first 5 are
	// served and the rest are closed at once.
	var open []*tcpPeer
	for i := 0; i < 8; i++ {
		open = append(open, dialTCPFrom(t, "127.0.0.8", srv))
	}
	served, refused := 0, 0
	for _, p := range open[:perAddr] {
		if strings.HasPrefix(p.options(srv), "SIP/2.0 200") {
			served++
		}
	}
	for _, p := range open[perAddr:] {
		if p.closedByServer(5 * time.Second) {
			refused++
		}
	}
	if served != perAddr || refused != 3 {
		t.Fatalf("8 connections from one address: %d served, %d closed; want %d and 3", served, refused, perAddr)
	}
	if other := dialTCPFrom(t, "127.0.0.9", srv); !strings.HasPrefix(other.options(srv), "SIP/2.0 200") {
		t.Fatal("another address is refused too")
	}

	// A registered phone's connection outlives the idle timeout that
	// closes the silent ones.
	phone := dialTCPFrom(t, "127.0.0.10", srv)
	res := phone.exchange(tcpRegister(phone, ""))
	_, nonce := challengeOfText(t, res)
	res = phone.exchange(tcpRegister(phone, digestHeader("Authorization", "1001", "acme.example", "pw-1001-x", nonce, "REGISTER", "sip:acme.example")))
	if !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("REGISTER over TCP: %q", res)
	}
	silent := dialTCPFrom(t, "127.0.0.11", srv)
	if !silent.closedByServer(10 * time.Second) {
		t.Fatal("an idle connection is still open 10 s after a 300 ms idle timeout")
	}
	for _, p := range open[:perAddr] {
		if !p.closedByServer(10 * time.Second) {
			t.Fatal("an idle connection is still open")
		}
	}
	if !strings.HasPrefix(phone.options(srv), "SIP/2.0 200") {
		t.Fatal("the registered phone's connection was closed with the idle ones")
	}
	// Closed connections no longer count against their address.
	if again := dialTCPFrom(t, "127.0.0.8", srv); !strings.HasPrefix(again.options(srv), "SIP/2.0 200") {
		t.Fatal("the capped address is still refused after its connections closed")
	}
}

func tcpRegister(p *tcpPeer, auth string) string {
	n := rawSeq.Add(1)
	if auth != "" {
		auth += "\r\n"
	}
	return fmt.Sprintf("REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-tcpreg-%d\r\nMax-Forwards: 70\r\n"+
		"From: <sip:1001@acme.example>;tag=r%d\r\nTo: <sip:1001@acme.example>\r\nCall-ID: tcpreg@%s\r\nCSeq: %d REGISTER\r\n"+
		"Contact: <sip:1001@%s;transport=tcp>\r\nExpires: 600\r\n%sContent-Length: 0\r\n\r\n",
		p.conn.LocalAddr(), n, n, p.conn.LocalAddr(), n, p.conn.LocalAddr(), auth)
}

func challengeOfText(t *testing.T, res string) (realm, nonce string) {
	t.Helper()
	r, n := realmParam.FindStringSubmatch(res), nonceParam.FindStringSubmatch(res)
	if r == nil || n == nil {
		t.Fatalf("no challenge in %q", res)
	}
	return r[1], n[1]
}
