package pbx

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"deskpbx/internal/rtppcap"
)

// logCapture keeps the PBX's log records so tests can read what a call
// logged (the DTMF test logs the digits it heard).
type logCapture struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (l *logCapture) Handle(ctx context.Context, r slog.Record) error {
	if os.Getenv("DESKPBX_TEST_LOG") != "" {
		testLogger().Handler().Handle(ctx, r)
	}
	l.mu.Lock()
	l.records = append(l.records, r.Clone())
	l.mu.Unlock()
	return nil
}
func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

// attr returns attribute key of the first record with message msg.
func (l *logCapture) attr(msg, key string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		var v string
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v, found = a.Value.String(), true
				return false
			}
			return true
		})
		return v, found
	}
	return "", false
}

func (l *logCapture) waitAttr(t *testing.T, msg, key string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if v, ok := l.attr(msg, key); ok {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q log record with %s", msg, key)
	return ""
}

// rtpPhone is the media side of a test phone: a real UDP socket that
// sends RTP to the PBX and records what comes back.
type rtpPhone struct {
	conn   *net.UDPConn
	remote netip.AddrPort
	mu     sync.Mutex
	got    []rtp.Packet
	done   chan struct{}
}

func newRTPPhone(t *testing.T) *rtpPhone {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPhone{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(append([]byte(nil), buf[:n]...)) == nil {
				p.mu.Lock()
				p.got = append(p.got, pkt)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-p.done })
	return p
}

func (p *rtpPhone) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// answered points the phone at the PBX's RTP address from its SDP answer.
func (p *rtpPhone) answered(t *testing.T, answer []byte) {
	t.Helper()
	var ip string
	var port int
	for _, l := range splitLines(string(answer)) {
		if strings.HasPrefix(l, "c=IN IP4 ") {
			ip = strings.TrimPrefix(l, "c=IN IP4 ")
		}
		if strings.HasPrefix(l, "m=audio ") {
			port, _ = strconv.Atoi(strings.Fields(l)[1])
		}
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("answer SDP without usable address: %q", answer)
	}
	p.remote = ap
}

// play sends packets on their schedule.
func (p *rtpPhone) play(pkts []rtppcap.Packet) {
	start := time.Now()
	for _, pkt := range pkts {
		if d := time.Until(start.Add(pkt.At)); d > 0 {
			time.Sleep(d)
		}
		b, _ := pkt.Marshal()
		p.conn.WriteToUDPAddrPort(b, p.remote)
	}
}

// audioRMS is the RMS level (0..1) of the µ-law audio received so far.
func (p *rtpPhone) audioRMS() (float64, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum float64
	n := 0
	for _, pkt := range p.got {
		if pkt.PayloadType != 0 {
			continue
		}
		for _, b := range pkt.Payload {
			v := float64(g711.DecodeUlawFrame(b)) / 32768
			sum += v * v
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return math.Sqrt(sum / float64(n)), len(p.got)
}

// dialFeature calls a feature code with an SDP offer for media.
func (p *phone) dialFeature(ctx context.Context, code string, media *rtpPhone) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, p.pbxURI(code))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: code, Host: p.domain}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(sdp(media.port(), "sendrecv"))
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

func officeWithLog(t *testing.T) (*office, *logCapture) {
	capture := &logCapture{}
	o := newOffice(t, func(c *Config) { c.Log = slog.New(capture) })
	return o, capture
}

func TestDTMFTestReadsBackRFC4733Digits(t *testing.T) {
	o, logs := officeWithLog(t)
	ada := o.phone("1001")
	ada.register()
	m := newRTPPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := ada.dialFeature(ctx, "*44", m)
	if err != nil {
		t.Fatalf("dial *44: %v", err)
	}
	m.answered(t, call.InviteResponse.Body())
	pkts, err := rtppcap.RFC4733Digits("1234#", 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.play(pkts)
	if got := logs.waitAttr(t, "dtmf test", "digits"); got != "1234" {
		t.Fatalf("PBX heard %q, want 1234", got)
	}
	if got, _ := logs.attr("dtmf test", "methods"); got != "RFC 4733" {
		t.Fatalf("methods %q, want RFC 4733", got)
	}
	waitFor(t, ada.byes, "BYE after the readback")
	if rms, n := m.audioRMS(); n < 50 || rms < 0.01 {
		t.Fatalf("phone got %d packets at RMS %.4f: want the spoken readback", n, rms)
	}
}

func TestDTMFTestReadsBackInbandAndINFODigits(t *testing.T) {
	o, logs := officeWithLog(t)
	ada := o.phone("1001")
	ada.register()
	m := newRTPPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := ada.dialFeature(ctx, "*44", m)
	if err != nil {
		t.Fatalf("dial *44: %v", err)
	}
	m.answered(t, call.InviteResponse.Body())
	pkts, err := rtppcap.InbandDigits("97", rtppcap.PCMU, -12)
	if err != nil {
		t.Fatal(err)
	}
	m.play(pkts)
	for _, body := range []string{"Signal=5\r\nDuration=160\r\n", "Signal=#\r\nDuration=160\r\n"} {
		info := sip.NewRequest(sip.INFO, call.InviteResponse.Contact().Address)
		info.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		info.SetBody([]byte(body))
		res, err := call.Do(ctx, info)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("INFO %q: %v %v", body, res, err)
		}
	}
	if got := logs.waitAttr(t, "dtmf test", "digits"); got != "975" {
		t.Fatalf("PBX heard %q, want 975", got)
	}
	if got, _ := logs.attr("dtmf test", "methods"); got != "in-band+SIP INFO" {
		t.Fatalf("methods %q, want in-band+SIP INFO", got)
	}
}

func TestEchoTestSendsCallerAudioBack(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	ada.register()
	m := newRTPPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := ada.dialFeature(ctx, "*43", m)
	if err != nil {
		t.Fatalf("dial *43: %v", err)
	}
	m.answered(t, call.InviteResponse.Body())
	// A 1 kHz tone at -10 dBFS for 3 s, after the announcement.
	var pkts []rtppcap.Packet
	for i := 0; i < 150; i++ {
		payload := make([]byte, 160)
		for j := range payload {
			s := int16(0.316 * 32767 * math.Sin(2*math.Pi*1000*float64(i*160+j)/8000))
			payload[j] = g711.EncodeUlawFrame(s)
		}
		pkts = append(pkts, rtppcap.Packet{At: time.Duration(i) * 20 * time.Millisecond,
			Packet: rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(i), Timestamp: uint32(i * 160), SSRC: 77}, Payload: payload}})
	}
	time.Sleep(4 * time.Second) // the announcement
	m.mu.Lock()
	before := len(m.got)
	m.mu.Unlock()
	m.play(pkts)
	time.Sleep(300 * time.Millisecond)
	m.mu.Lock()
	echoed := m.got[before:]
	m.mu.Unlock()
	same := 0
	for _, p := range echoed {
		if p.SSRC != 77 && matchesAny(p.Payload, pkts) {
			same++
		}
	}
	if same < 100 {
		t.Fatalf("%d of %d packets came back with the caller's audio, want most of 150", same, len(echoed))
	}
	call.Bye(ctx)
}

func matchesAny(payload []byte, pkts []rtppcap.Packet) bool {
	for _, p := range pkts {
		if string(p.Payload) == string(payload) {
			return true
		}
	}
	return false
}

func TestInviteWithoutSDPOrCommonCodecGets488(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	ada.register()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	g729 := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	for _, c := range []struct {
		to, body string
	}{{"*44", ""}, {"*44", g729}, {"*43", "this is not SDP"}, {"1002", ""}} {
		req := sip.NewRequest(sip.INVITE, ada.pbxURI(c.to))
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "acme.example"}, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(8))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: c.to, Host: "acme.example"}})
		if c.body != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody([]byte(c.body))
		}
		d, err := ada.dua.WriteInvite(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		err = d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "1001", Password: ada.password})
		if got := statusOf(err); got != 488 {
			t.Errorf("INVITE to %s with body %.20q: %d (%v), want 488", c.to, c.body, got, err)
		}
	}
}

func TestFeatureCallsReleaseTheirPorts(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	ada.register()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		m := newRTPPhone(t)
		call, err := ada.dialFeature(ctx, "*44", m)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if i%8 != 0 {
			// Most hang up in the middle of the prompt.
			call.Bye(ctx)
			continue
		}
		m.answered(t, call.InviteResponse.Body())
		pkts, _ := rtppcap.RFC4733Digits("#", 101)
		m.play(pkts)
		waitFor(t, ada.byes, "BYE after the readback")
	}
	deadline := time.Now().Add(10 * time.Second)
	for o.srv.ports.InUse() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := o.srv.ports.InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use after every call ended", n)
	}
	if n := len(o.srv.ActiveCalls()); n != 0 {
		t.Fatalf("%d calls still listed after every call ended", n)
	}
}
