package pbx

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawUA speaks SIP as hand-written datagrams from a socket bound to one
// loopback address: how the attack tests play an office, an attacker,
// or an attacker spoofing the office's address (Linux routes all of
// 127.0.0.0/8 to lo, so a bind to 127.0.0.2 is a second host).
type rawUA struct {
	t    *testing.T
	conn *net.UDPConn
	pbx  *net.UDPAddr
}

var rawSeq atomic.Int64

func newRawUA(t *testing.T, ip, pbxAddr string) *rawUA {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	pbx, err := net.ResolveUDPAddr("udp4", pbxAddr)
	if err != nil {
		t.Fatal(err)
	}
	return &rawUA{t: t, conn: conn, pbx: pbx}
}

func (u *rawUA) addr() string { return u.conn.LocalAddr().String() }

// request builds a request of method from user@domain; auth, when not
// empty, is a whole header line ("Authorization: Digest ...").
func (u *rawUA) request(method, user, domain, auth string) string {
	n := rawSeq.Add(1)
	ruri, to, contact := "sip:"+domain, "<sip:"+user+"@"+domain+">", "<sip:"+user+"@"+u.addr()+">"
	if method != "REGISTER" {
		ruri, to = "sip:1002@"+domain, "<sip:1002@"+domain+">"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, ruri)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK-raw-%d\r\n", u.addr(), n)
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:%s@%s>;tag=raw%d\r\nTo: %s\r\n", user, domain, n, to)
	fmt.Fprintf(&b, "Call-ID: raw-%d@%s\r\nCSeq: %d %s\r\nContact: %s\r\n", n, u.addr(), n, method, contact)
	if method == "REGISTER" {
		b.WriteString("Expires: 600\r\n")
	}
	if auth != "" {
		b.WriteString(auth + "\r\n")
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.String()
}

func (u *rawUA) send(msg string) {
	u.t.Helper()
	if _, err := u.conn.WriteToUDP([]byte(msg), u.pbx); err != nil {
		u.t.Fatal(err)
	}
}

// recv waits up to d for one response; nil when none came.
func (u *rawUA) recv(d time.Duration) *sip.Response {
	u.t.Helper()
	buf := make([]byte, 65536)
	u.conn.SetReadDeadline(time.Now().Add(d))
	n, err := u.conn.Read(buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	if err != nil {
		u.t.Fatal(err)
	}
	m, err := sip.ParseMessage(buf[:n])
	if err != nil {
		u.t.Fatalf("unparsable answer: %v\n%s", err, buf[:n])
	}
	res, ok := m.(*sip.Response)
	if !ok {
		u.t.Fatalf("got a request, want a response:\n%s", buf[:n])
	}
	return res
}

// exchange sends msg and returns the answer (failing without one).
func (u *rawUA) exchange(msg string) *sip.Response {
	u.t.Helper()
	u.send(msg)
	res := u.recv(5 * time.Second)
	if res == nil {
		u.t.Fatal("no answer within 5 s")
	}
	return res
}

var (
	nonceParam = regexp.MustCompile(`nonce="([^"]+)"`)
	realmParam = regexp.MustCompile(`realm="([^"]+)"`)
)

// challengeOf returns the realm and nonce of the first challenge in res.
func challengeOf(t *testing.T, res *sip.Response) (realm, nonce string) {
	t.Helper()
	var h sip.Header
	if h = res.GetHeader("WWW-Authenticate"); h == nil {
		h = res.GetHeader("Proxy-Authenticate")
	}
	if h == nil {
		t.Fatalf("%d without a challenge", res.StatusCode)
	}
	return realmParam.FindStringSubmatch(h.Value())[1], nonceParam.FindStringSubmatch(h.Value())[1]
}

// digestHeader computes an RFC 2617 qop=auth Authorization header.
func digestHeader(name, user, realm, password, nonce, method, uri string) string {
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	ha1, ha2 := h(user+":"+realm+":"+password), h(method+":"+uri)
	resp := h(ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2)
	return fmt.Sprintf(`%s: Digest username="%s", realm="%s", nonce="%s", uri="%s", qop=auth, nc=00000001, cnonce="c0ffee", response="%s", algorithm=MD5`,
		name, user, realm, nonce, uri, resp)
}

// registerWith runs a whole digest REGISTER of user from u and returns
// the final answer.
func (u *rawUA) registerWith(user, domain, password string) *sip.Response {
	u.t.Helper()
	res := u.exchange(u.request("REGISTER", user, domain, ""))
	if res.StatusCode != 401 {
		return res
	}
	realm, nonce := challengeOf(u.t, res)
	return u.exchange(u.request("REGISTER", user, domain, digestHeader("Authorization", user, realm, password, nonce, "REGISTER", "sip:"+domain)))
}

func headerNames(hs []sip.Header) string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name())
	}
	return strings.Join(names, ",")
}
