package pbx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// phone is a SIP phone played by a real sipgo user agent on 127.0.0.1:
// it registers with digest auth, places calls and answers them.
type phone struct {
	t        *testing.T
	user     string
	domain   string
	password string
	pbx      string // host:port of deskpbx
	addr     string // our host:port
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	dua      *sipgo.DialogUA
	cancel   context.CancelFunc

	// answer decides what an incoming INVITE gets: 200 (answer), 486
	// (busy), or 0 to ring until cancelled.
	mu       sync.Mutex
	answer   int
	incoming chan *incomingCall
	inCalls  map[string]*sipgo.DialogServerSession
	outCalls map[string]*sipgo.DialogClientSession
	reinvite chan *sip.Request
	byes     chan *sip.Request
}

type incomingCall struct {
	req       *sip.Request
	dialog    *sipgo.DialogServerSession
	cancelled chan struct{}
}

const phoneSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n"

func sdp(port int, dir string) []byte { return []byte(fmt.Sprintf(phoneSDP, port, dir)) }

func newPhone(t *testing.T, pbxAddr, user, domain, password string) *phone {
	t.Helper()
	// Bind first and keep the socket: a port picked then released can be
	// taken by a test running beside us before we bind it again.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p := &phone{t: t, user: user, domain: domain, password: password, pbx: pbxAddr,
		addr: "127.0.0.1:" + strconv.Itoa(port), answer: 200,
		incoming: make(chan *incomingCall, 8), reinvite: make(chan *sip.Request, 8), byes: make(chan *sip.Request, 8),
		inCalls: make(map[string]*sipgo.DialogServerSession), outCalls: make(map[string]*sipgo.DialogClientSession)}
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("testphone-"+user), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p.srv, _ = sipgo.NewServer(p.ua)
	p.client, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.addr))
	if err != nil {
		t.Fatal(err)
	}
	p.dua = &sipgo.DialogUA{Client: p.client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: port}}}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if d := p.findIn(req); d != nil {
			d.ReadAck(req, tx)
		}
	})
	p.srv.OnBye(p.onBye)
	p.srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	go p.srv.ServeUDP(conn)
	// Ready fires before the listener joins the connection pool; until it
	// has, the client would try to bind the same port again.
	for i := 0; ; i++ {
		if c, err := p.ua.TransportLayer().GetConnection("udp", p.addr); err == nil && c != nil {
			break
		}
		if i > 500 {
			t.Fatal("phone listener never joined the connection pool")
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Cleanup(p.close)
	return p
}

func (p *phone) close() {
	p.cancel()
	p.client.Close()
	p.srv.Close()
	p.ua.Close()
}

func (p *phone) findIn(req *sip.Request) *sipgo.DialogServerSession {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inCalls[id]
}

func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		// re-INVITE: answer with the mirror of the offered direction.
		p.reinvite <- req
		dir := "sendrecv"
		switch {
		case containsLine(req.Body(), "a=sendonly"):
			dir = "recvonly"
		case containsLine(req.Body(), "a=inactive"):
			dir = "inactive"
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp(4002, dir))
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&p.dua.ContactHDR)
		tx.Respond(res)
		return
	}
	d, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad", nil))
		return
	}
	in := &incomingCall{req: req, dialog: d, cancelled: make(chan struct{})}
	p.mu.Lock()
	p.inCalls[d.ID] = d
	answer := p.answer
	p.mu.Unlock()
	p.incoming <- in
	d.Respond(180, "Ringing", nil)
	switch answer {
	case 200:
		if err := d.RespondSDP(sdp(4002, "sendrecv")); err != nil {
			p.t.Logf("%s: answering: %v", p.user, err)
		}
	case 0:
		<-d.Context().Done()
		close(in.cancelled)
	default:
		d.Respond(answer, "Busy Here", nil)
	}
}

func (p *phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if d := p.findIn(req); d != nil {
		d.ReadBye(req, tx)
		p.byes <- req
		return
	}
	id, _ := sip.DialogIDFromRequestUAC(req)
	p.mu.Lock()
	c := p.outCalls[id]
	p.mu.Unlock()
	if c != nil {
		c.ReadBye(req, tx)
		p.byes <- req
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
}

func (p *phone) setAnswer(code int) {
	p.mu.Lock()
	p.answer = code
	p.mu.Unlock()
}

func (p *phone) pbxURI(user string) sip.Uri {
	host, port, _ := net.SplitHostPort(p.pbx)
	n, _ := strconv.Atoi(port)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: n}
}

// registerReq builds a REGISTER for our AOR with the given Contact and Expires.
func (p *phone) registerReq(contact string, expires int) *sip.Request {
	host, port, _ := net.SplitHostPort(p.pbx)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: n})
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}
	req.AppendHeader(&sip.ToHeader{Address: aor})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	if contact != "" {
		req.AppendHeader(sip.NewHeader("Contact", contact))
	}
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	return req
}

// doAuth sends req and answers one digest challenge with our password.
func (p *phone) doAuth(req *sip.Request, password string) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 401 && res.StatusCode != 407 {
		return res, nil
	}
	return p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: password})
}

func (p *phone) register() {
	p.t.Helper()
	res, err := p.doAuth(p.registerReq("<sip:"+p.user+"@"+p.addr+">", 600), p.password)
	if err != nil {
		p.t.Fatalf("%s: register: %v", p.user, err)
	}
	if res.StatusCode != 200 {
		p.t.Fatalf("%s: register: %d %s", p.user, res.StatusCode, res.Reason)
	}
}

// dial calls number through the PBX and waits for the final answer.
func (p *phone) dial(ctx context.Context, number string) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, p.pbxURI(number))
	from := &sip.FromHeader{DisplayName: "Spoofed Name", Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: p.domain}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp(4000, "sendrecv"))
	d, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.password}); err != nil {
		return d, err
	}
	p.mu.Lock()
	p.outCalls[d.ID] = d
	p.mu.Unlock()
	return d, d.Ack(ctx)
}

func statusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

func containsLine(body []byte, line string) bool {
	for _, l := range splitLines(string(body)) {
		if l == line {
			return true
		}
	}
	return false
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			l := s[start:i]
			if len(l) > 0 && l[len(l)-1] == '\r' {
				l = l[:len(l)-1]
			}
			out = append(out, l)
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// reinvite sends a re-INVITE in the caller's dialog and ACKs a 2xx.
func reinvite(ctx context.Context, d *sipgo.DialogClientSession, body []byte) (*sip.Response, error) {
	req := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	res, err := d.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.IsSuccess() {
		ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
		d.WriteRequest(ack)
	}
	return res, nil
}

func digestFor(p *phone) sipgo.DigestAuth {
	return sipgo.DigestAuth{Username: p.user, Password: p.password}
}
