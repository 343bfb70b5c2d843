package e2e

import (
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// Issue 12, item 14: a REGISTER storm with deskpbx killed by SIGKILL
// mid-run used to lose bindings whose 200 OK the phones had received
// (77 of 7,083). Every REGISTER is now answered only once its binding is
// committed: after the kill and a restart, every binding that got a
// 200 OK is in the database.
func TestRegistrationsAcknowledgedBeforeSIGKILLSurviveIt(t *testing.T) {
	const (
		exts    = 3000
		clients = 24
		killAt  = 1200 // 200 OKs seen before the kill
	)
	p := newPBX(t, domain)
	rows := make([][5]string, exts)
	for i := range rows {
		n := strconv.Itoa(20000 + i)
		rows[i] = [5]string{domain, n, "long-secret-" + n, "", ""}
	}
	p.importExts(rows)
	p.start()

	var (
		mu     sync.Mutex
		acked  = map[string]bool{} // "number contact" with a 200 OK
		oks    atomic.Int64
		killed = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	kill := func() {
		once.Do(func() {
			p.mu.Lock()
			proc := p.proc
			p.mu.Unlock()
			if err := proc.Process.Kill(); err != nil { // SIGKILL
				t.Errorf("SIGKILL: %v", err)
			}
			close(killed)
		})
	}
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := newRegistrar(p.sipAddr)
			if err != nil {
				t.Error(err)
				return
			}
			defer r.conn.Close()
			// Each client registers its share of extensions, one new
			// contact each, until the server stops answering.
			for i := c; i < exts; i += clients {
				n := strconv.Itoa(20000 + i)
				contact := fmt.Sprintf("<sip:%s@%s;ob=%d>", n, r.conn.LocalAddr(), i)
				code, err := r.register(n, "long-secret-"+n, contact)
				if err != nil {
					select {
					case <-killed:
						return // the server is gone, as intended
					default:
					}
					t.Errorf("%s before the kill: %v", n, err)
					return
				}
				if code != 200 {
					t.Errorf("%s: %d", n, code)
					return
				}
				mu.Lock()
				acked[n+" "+contact] = true
				mu.Unlock()
				if oks.Add(1) == killAt {
					kill()
				}
			}
		}()
	}
	wg.Wait()
	select {
	case <-killed:
	default:
		t.Fatalf("the storm ended (%d 200 OKs) before the kill at %d", oks.Load(), killAt)
	}
	<-p.exited
	if n := len(acked); n < killAt {
		t.Fatalf("%d acknowledged bindings, want at least %d", n, killAt)
	}

	p.start() // recovers the database after the crash
	db, err := sql.Open("sqlite3", "file:"+p.db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := db.Query(`SELECT e.number, b.contact FROM bindings b JOIN extensions e ON e.id = b.extension_id`)
	if err != nil {
		t.Fatal(err)
	}
	saved := map[string]bool{}
	for q.Next() {
		var number, contact string
		if err := q.Scan(&number, &contact); err != nil {
			t.Fatal(err)
		}
		saved[number+" <"+contact+">"] = true
	}
	if err := q.Err(); err != nil {
		t.Fatal(err)
	}
	q.Close()
	var lost []string
	for k := range acked {
		if !saved[k] {
			lost = append(lost, k)
		}
	}
	t.Logf("%d REGISTERs answered 200 before SIGKILL; %d bindings in the database after restart", len(acked), len(saved))
	if len(lost) > 0 {
		t.Fatalf("%d bindings acknowledged with 200 OK were lost by the crash, e.g. %v", len(lost), lost[:min(5, len(lost))])
	}
	p.stop()
}

// registrar plays many phones from one UDP socket: REGISTER, the 401,
// and REGISTER again with digest credentials.
type registrar struct {
	conn *net.UDPConn
	pbx  *net.UDPAddr
	seq  int
	buf  []byte
}

func newRegistrar(pbxAddr string) (*registrar, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	pbx, err := net.ResolveUDPAddr("udp4", pbxAddr)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &registrar{conn: conn, pbx: pbx, buf: make([]byte, 65536)}, nil
}

var (
	statusLine = regexp.MustCompile(`^SIP/2\.0 (\d{3})`)
	nonceRe    = regexp.MustCompile(`nonce="([^"]+)"`)
	callIDRe   = regexp.MustCompile(`(?mi)^Call-ID:\s*(\S+)`)
)

func (r *registrar) register(number, password, contact string) (int, error) {
	callID := fmt.Sprintf("crash-%s-%s", number, r.conn.LocalAddr())
	send := func(auth string) (int, string, error) {
		r.seq++
		msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-crash-%s-%d\r\nMax-Forwards: 70\r\n"+
			"From: <sip:%s@%s>;tag=c%d\r\nTo: <sip:%s@%s>\r\nCall-ID: %s\r\nCSeq: %d REGISTER\r\nContact: %s\r\nExpires: 3600\r\n%sContent-Length: 0\r\n\r\n",
			domain, r.conn.LocalAddr(), number, r.seq, number, domain, r.seq, number, domain, callID, r.seq, contact, auth)
		if _, err := r.conn.WriteToUDP([]byte(msg), r.pbx); err != nil {
			return 0, "", err
		}
		// Answers to an earlier, timed-out request may still arrive.
		for {
			r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			n, err := r.conn.Read(r.buf)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, "", errors.New("no answer within 5 s")
			}
			if err != nil {
				return 0, "", err
			}
			res := string(r.buf[:n])
			if m := callIDRe.FindStringSubmatch(res); m == nil || m[1] != callID || !strings.Contains(res, fmt.Sprintf("CSeq: %d REGISTER", r.seq)) {
				continue
			}
			m := statusLine.FindStringSubmatch(res)
			if m == nil {
				return 0, "", fmt.Errorf("not a response: %.60q", res)
			}
			code, _ := strconv.Atoi(m[1])
			return code, res, nil
		}
	}
	code, res, err := send("")
	if err != nil || code != 401 {
		return code, err
	}
	m := nonceRe.FindStringSubmatch(res)
	if m == nil {
		return 0, fmt.Errorf("401 without a nonce")
	}
	h := func(s string) string { x := md5.Sum([]byte(s)); return hex.EncodeToString(x[:]) }
	uri := "sip:" + domain
	resp := h(h(number+":"+domain+":"+password) + ":" + m[1] + ":00000001:e2e:auth:" + h("REGISTER:"+uri))
	auth := fmt.Sprintf("Authorization: Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", qop=auth, nc=00000001, cnonce=\"e2e\", response=\"%s\", algorithm=MD5\r\n",
		number, domain, m[1], uri, resp)
	code, _, err = send(auth)
	return code, err
}
