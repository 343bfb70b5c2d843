// Package testphone plays a desk phone in deskpbx's tests: a real sipgo
// user agent on 127.0.0.1 that registers with digest auth, places and
// answers calls, and sends and records RTP. It is used only by tests (of
// pbx, admin, ...) and imports none of the packages under test, so that
// each of them can use it from its own tests.
package testphone

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

// RingForever, given to SetAnswer, lets calls ring until they are cancelled.
const RingForever = 0

// Phone is a SIP phone of one extension, on its own UDP socket.
type Phone struct {
	User, Domain, Password string

	PBX    string // host:port of deskpbx; set it anew after a restart on another port
	Addr   string // the phone's own host:port
	Client *sipgo.Client
	DUA    *sipgo.DialogUA

	// Incoming gets each new call, ringing, before it is answered;
	// Reinvites each re-INVITE of a call in progress; Byes each BYE that
	// ends a call of the phone. Unread, they hold 8 (Incoming 32) before
	// the phone stops answering.
	Incoming  chan *IncomingCall
	Reinvites chan *sip.Request
	Byes      chan *sip.Request
	// InDialog gets each INFO and UPDATE of a call; they are answered 200.
	InDialog chan *sip.Request
	// Notifies gets each NOTIFY (answered 200), Acks each ACK of a call
	// the phone answered; see refer.go.
	Notifies chan *sip.Request
	Acks     chan *sip.Request

	t      testing.TB
	ua     *sipgo.UserAgent
	srv    *sipgo.Server
	cancel context.CancelFunc

	mu       sync.Mutex
	answer   int // what a new call gets: 200, 486, or RingForever
	rtpPort  int // the port its SDP answers give; 4002 unless UseMedia
	inCalls  map[string]*sipgo.DialogServerSession
	outCalls map[string]*sipgo.DialogClientSession
}

// IncomingCall is a call that rang the phone.
type IncomingCall struct {
	Req       *sip.Request
	Dialog    *sipgo.DialogServerSession
	Cancelled chan struct{} // closed when a call left ringing is cancelled
	answerNow chan []byte   // AnswerWith answers a call left ringing
}

const sdpFormat = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n"

// SDP is the phone's offer or answer: PCMU, PCMA and RFC 4733 events at
// 127.0.0.1:port, with direction dir (sendrecv, sendonly, ...).
func SDP(port int, dir string) []byte { return []byte(fmt.Sprintf(sdpFormat, port, dir)) }

// New starts a phone of user@domain that talks to the PBX at pbxAddr. It
// answers calls at once until told otherwise, and stops when t ends.
func New(t testing.TB, pbxAddr, user, domain, password string) *Phone {
	t.Helper()
	// Bind first and keep the socket: a port picked then released can be
	// taken by a test running beside us before we bind it again.
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p := &Phone{t: t, User: user, Domain: domain, Password: password, PBX: pbxAddr,
		Addr: "127.0.0.1:" + strconv.Itoa(port), answer: 200,
		Incoming: make(chan *IncomingCall, 32), Reinvites: make(chan *sip.Request, 8), Byes: make(chan *sip.Request, 8),
		InDialog: make(chan *sip.Request, 8), Notifies: make(chan *sip.Request, 16), Acks: make(chan *sip.Request, 16),
		inCalls: make(map[string]*sipgo.DialogServerSession), outCalls: make(map[string]*sipgo.DialogClientSession)}
	p.ua, err = sipgo.NewUA(sipgo.WithUserAgent("testphone-"+user), sipgo.WithUserAgentHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	p.srv, _ = sipgo.NewServer(p.ua)
	p.Client, err = sipgo.NewClient(p.ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientConnectionAddr(p.Addr))
	if err != nil {
		t.Fatal(err)
	}
	p.DUA = &sipgo.DialogUA{Client: p.Client, ContactHDR: sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: "127.0.0.1", Port: port}}}
	p.srv.OnInvite(p.onInvite)
	p.srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		if d := p.findIn(req); d != nil {
			d.ReadAck(req, tx)
		}
		select {
		case p.Acks <- req:
		default:
		}
	})
	p.srv.OnBye(p.onBye)
	p.srv.OnNotify(p.onNotify)
	inDialog := func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case p.InDialog <- req:
		default:
		}
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	p.srv.OnInfo(inDialog)
	p.srv.OnUpdate(inDialog)
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
		if c, err := p.ua.TransportLayer().GetConnection("udp", p.Addr); err == nil && c != nil {
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

func (p *Phone) close() {
	p.cancel()
	p.Client.Close()
	p.srv.Close()
	p.ua.Close()
}

func (p *Phone) findIn(req *sip.Request) *sipgo.DialogServerSession {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inCalls[id]
}

func (p *Phone) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		p.onReinvite(req, tx)
		return
	}
	d, err := p.DUA.ReadInvite(req, tx)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad", nil))
		return
	}
	in := &IncomingCall{Req: req, Dialog: d, Cancelled: make(chan struct{}), answerNow: make(chan []byte, 1)}
	p.mu.Lock()
	p.inCalls[d.ID] = d
	answer := p.answer
	p.mu.Unlock()
	// Ringing goes out before the test hears of the call, so a test that
	// answers the call itself never writes the dialog alongside us.
	d.Respond(180, "Ringing", nil)
	p.Incoming <- in
	switch answer {
	case 200:
		if err := d.RespondSDP(SDP(p.answerPort(), "sendrecv")); err != nil {
			p.t.Logf("%s: answering: %v", p.User, err)
		}
	case RingForever:
		select {
		case <-d.Context().Done():
			close(in.Cancelled)
		case sdp := <-in.answerNow:
			if err := d.RespondSDP(sdp); err != nil {
				p.t.Logf("%s: answering: %v", p.User, err)
			}
		}
	default:
		d.Respond(answer, "Busy Here", nil)
	}
}

// onReinvite answers with the mirror of the offered direction.
func (p *Phone) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	p.Reinvites <- req
	dir := "sendrecv"
	switch {
	case HasLine(req.Body(), "a=sendonly"):
		dir = "recvonly"
	case HasLine(req.Body(), "a=inactive"):
		dir = "inactive"
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", SDP(p.answerPort(), dir))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&p.DUA.ContactHDR)
	tx.Respond(res)
}

// onBye ends the call the BYE is for. A BYE for a call that has already
// ended ends nothing and is not reported: the PBX may send one that
// crosses the phone's own BYE (when a caller hangs up right after its
// ACK), and a test waiting for the PBX to hang up a later call must not
// take it for that call's.
func (p *Phone) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if d := p.findIn(req); d != nil && d.LoadState() != sip.DialogStateEnded {
		d.ReadBye(req, tx)
		p.Byes <- req
		return
	}
	id, _ := sip.DialogIDFromRequestUAC(req)
	p.mu.Lock()
	c := p.outCalls[id]
	p.mu.Unlock()
	if c != nil && c.LoadState() != sip.DialogStateEnded {
		c.ReadBye(req, tx)
		p.Byes <- req
		return
	}
	tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
}

// SetAnswer decides what the next calls get: 200 (answered), 486 (busy),
// or RingForever.
func (p *Phone) SetAnswer(code int) {
	p.mu.Lock()
	p.answer = code
	p.mu.Unlock()
}

// Calls is how many calls have rung this phone so far.
func (p *Phone) Calls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inCalls)
}

// URI is user at the PBX's address, where requests for user are sent.
func (p *Phone) URI(user string) sip.Uri {
	host, port, _ := net.SplitHostPort(p.PBX)
	n, _ := strconv.Atoi(port)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: n}
}

// RegisterRequest builds a REGISTER for the phone's AOR with the given
// Contact ("" for none) and Expires (-1 for none).
func (p *Phone) RegisterRequest(contact string, expires int) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, p.URI(""))
	aor := sip.Uri{Scheme: "sip", User: p.User, Host: p.Domain}
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
	req.AppendHeader(sip.NewHeader("User-Agent", "testphone-"+p.User))
	return req
}

// DoAuth sends req and answers one digest challenge with password.
func (p *Phone) DoAuth(req *sip.Request, password string) (*sip.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Client.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != 401 && res.StatusCode != 407 {
		return res, nil
	}
	return p.Client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: p.User, Password: password})
}

// Send sends req outside any dialog, without answering a challenge, and
// returns the response; the test fails if none comes.
func (p *Phone) Send(req *sip.Request) *sip.Response {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Client.Do(ctx, req)
	if err != nil {
		p.t.Fatal(err)
	}
	return res
}

// Digest is the phone's credentials.
func (p *Phone) Digest() sipgo.DigestAuth {
	return sipgo.DigestAuth{Username: p.User, Password: p.Password}
}

// Register binds the phone's address to its AOR for 10 minutes, or fails
// the test.
func (p *Phone) Register() {
	p.t.Helper()
	res, err := p.DoAuth(p.RegisterRequest("<sip:"+p.User+"@"+p.Addr+">", 600), p.Password)
	if err != nil {
		p.t.Fatalf("%s: register: %v", p.User, err)
	}
	if res.StatusCode != 200 {
		p.t.Fatalf("%s: register: %d %s", p.User, res.StatusCode, res.Reason)
	}
}

// Dial calls number through the PBX and waits for the final answer. Its
// From has a display name of the phone's own choosing, which the PBX must
// replace with the stored one.
func (p *Phone) Dial(ctx context.Context, number string) (*sipgo.DialogClientSession, error) {
	return p.invite(ctx, number, "Spoofed Name", SDP(4000, "sendrecv"))
}

// DialFeature calls a feature code (*43, *072, ...) with an SDP offer for
// media and waits for the final answer.
func (p *Phone) DialFeature(ctx context.Context, code string, media *Media) (*sipgo.DialogClientSession, error) {
	return p.invite(ctx, code, "", SDP(media.Port(), "sendrecv"))
}

// InviteRequest builds an INVITE from the phone to user with offer as its
// SDP, and displayName ("" for none) in From.
func (p *Phone) InviteRequest(user, displayName string, offer []byte) *sip.Request {
	req := sip.NewRequest(sip.INVITE, p.URI(user))
	from := &sip.FromHeader{DisplayName: displayName, Address: sip.Uri{Scheme: "sip", User: p.User, Host: p.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: p.Domain}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offer)
	return req
}

// invite places a call to user with offer, and ACKs a 2xx.
func (p *Phone) invite(ctx context.Context, user, displayName string, offer []byte) (*sipgo.DialogClientSession, error) {
	d, err := p.DUA.WriteInvite(ctx, p.InviteRequest(user, displayName, offer))
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.User, Password: p.Password}); err != nil {
		return d, err
	}
	p.mu.Lock()
	p.outCalls[d.ID] = d
	p.mu.Unlock()
	return d, d.Ack(ctx)
}

// Reinvite sends a re-INVITE in the caller's dialog d and ACKs a 2xx.
func Reinvite(ctx context.Context, d *sipgo.DialogClientSession, body []byte) (*sip.Response, error) {
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

// StatusOf is the final status of a call that failed with err, 0 if it
// got none.
func StatusOf(err error) int {
	var de *sipgo.ErrDialogResponse
	if errors.As(err, &de) {
		return de.Res.StatusCode
	}
	return 0
}

// HasLine says whether body (SDP) has line.
func HasLine(body []byte, line string) bool {
	for _, l := range splitLines(string(body)) {
		if l == line {
			return true
		}
	}
	return false
}

// splitLines splits at LF or CRLF.
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

// Await is the next value on ch; t fails if none comes within ten
// seconds (a bound on a hang, not a timed assertion).
func Await[T any](t testing.TB, ch <-chan T, what string) T {
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
