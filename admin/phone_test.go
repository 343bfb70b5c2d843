package admin

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// phone is a desk phone played by a real sipgo user agent on 127.0.0.1,
// adapted from pbx's test harness: it registers with digest auth, places
// calls and answers them.
type phone struct {
	t        *testing.T
	user     string
	domain   string
	password string
	pbx      string
	addr     string
	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	client   *sipgo.Client
	dua      *sipgo.DialogUA
	cancel   context.CancelFunc

	mu      sync.Mutex
	inCalls map[string]*sipgo.DialogServerSession
	byes    chan *sip.Request
}

const phoneSDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"

func newPhone(t *testing.T, pbxAddr, user, domain, password string) *phone {
	t.Helper()
	// Bound first and kept, so no test beside us can take the port.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p := &phone{t: t, user: user, domain: domain, password: password, pbx: pbxAddr,
		addr: "127.0.0.1:" + strconv.Itoa(port), inCalls: map[string]*sipgo.DialogServerSession{}, byes: make(chan *sip.Request, 8)}
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
	// The listener joins the connection pool a moment after serving
	// starts; until then the client would bind the same port again.
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

// onInvite answers every call at once.
func (p *phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	d, err := p.dua.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad", nil))
		return
	}
	p.mu.Lock()
	p.inCalls[d.ID] = d
	p.mu.Unlock()
	d.Respond(180, "Ringing", nil)
	d.RespondSDP([]byte(fmt.Sprintf(phoneSDP, 4002)))
}

func (p *phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if d := p.findIn(req); d != nil {
		d.ReadBye(req, tx)
		p.byes <- req
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	p.byes <- req
}

func (p *phone) register() {
	p.t.Helper()
	host, port, _ := net.SplitHostPort(p.pbx)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: n})
	aor := sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}
	req.AppendHeader(&sip.ToHeader{Address: aor})
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+p.user+"@"+p.addr+">"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	req.AppendHeader(sip.NewHeader("User-Agent", "testphone-"+p.user))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		res, err = p.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.user, Password: p.password})
	}
	if err != nil {
		p.t.Fatalf("%s: register: %v", p.user, err)
	}
	if res.StatusCode != 200 {
		p.t.Fatalf("%s: register: %d %s", p.user, res.StatusCode, res.Reason)
	}
}

// dial calls number through the PBX and returns once it is answered.
func (p *phone) dial(ctx context.Context, number string) (*sipgo.DialogClientSession, error) {
	host, port, _ := net.SplitHostPort(p.pbx)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: number, Host: host, Port: n})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: p.domain}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(fmt.Sprintf(phoneSDP, 4000)))
	d, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.password}); err != nil {
		return d, err
	}
	return d, d.Ack(ctx)
}
