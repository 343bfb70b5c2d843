package pbx

import (
	"context"
	"log/slog"
	"math"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"deskpbx/internal/rtppcap"
	"deskpbx/internal/testphone"
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

func officeWithLog(t *testing.T) (*office, *logCapture) {
	capture := &logCapture{}
	o := newOffice(t, func(c *Config) { c.Log = slog.New(capture) })
	return o, capture
}

// adaDialsFeature registers Ada and has her dial a feature code with
// media of her own; it returns once the PBX has answered and her RTP is
// pointed at it.
func adaDialsFeature(t *testing.T, o *office, code string) (*testphone.Phone, *sipgo.DialogClientSession, *testphone.Media, context.Context) {
	t.Helper()
	ada := o.phone("1001")
	ada.Register()
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	call, err := ada.DialFeature(ctx, code, m)
	if err != nil {
		t.Fatalf("dial %s: %v", code, err)
	}
	m.Answered(t, call.InviteResponse.Body())
	return ada, call, m, ctx
}

func TestDTMFTestReadsBackRFC4733Digits(t *testing.T) {
	o, logs := officeWithLog(t)
	ada, _, m, _ := adaDialsFeature(t, o, "*44")
	pkts, err := rtppcap.RFC4733Digits("1234#", 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.Play(pkts)
	if got := logs.waitAttr(t, "dtmf test", "digits"); got != "1234" {
		t.Fatalf("PBX heard %q, want 1234", got)
	}
	if got, _ := logs.attr("dtmf test", "methods"); got != "RFC 4733" {
		t.Fatalf("methods %q, want RFC 4733", got)
	}
	waitFor(t, ada.Byes, "BYE after the readback")
	if rms, n := m.AudioRMS(); n < 50 || rms < 0.01 {
		t.Fatalf("phone got %d packets at RMS %.4f: want the spoken readback", n, rms)
	}
}

func TestDTMFTestReadsBackInbandAndINFODigits(t *testing.T) {
	o, logs := officeWithLog(t)
	_, call, m, ctx := adaDialsFeature(t, o, "*44")
	pkts, err := rtppcap.InbandDigits("97", rtppcap.PCMU, -12)
	if err != nil {
		t.Fatal(err)
	}
	m.Play(pkts)
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
	_, call, m, ctx := adaDialsFeature(t, o, "*43")
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
	before := len(m.Received())
	m.Play(pkts)
	time.Sleep(300 * time.Millisecond)
	echoed := m.Received()[before:]
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
	ada.Register()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	g729 := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
	for _, c := range []struct {
		to, body string
	}{{"*44", ""}, {"*44", g729}, {"*43", "this is not SDP"}, {"1002", ""}} {
		req := sip.NewRequest(sip.INVITE, ada.URI(c.to))
		from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "1001", Host: "acme.example"}, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(8))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: c.to, Host: "acme.example"}})
		if c.body != "" {
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody([]byte(c.body))
		}
		d, err := ada.DUA.WriteInvite(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		err = d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: "1001", Password: ada.Password})
		if got := testphone.StatusOf(err); got != 488 {
			t.Errorf("INVITE to %s with body %.20q: %d (%v), want 488", c.to, c.body, got, err)
		}
	}
}

func TestFeatureCallsReleaseTheirPorts(t *testing.T) {
	o := newOffice(t)
	ada := o.phone("1001")
	ada.Register()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := 0; i < 20; i++ {
		m := testphone.NewMedia(t)
		call, err := ada.DialFeature(ctx, "*44", m)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if i%8 != 0 {
			// Most hang up in the middle of the prompt.
			call.Bye(ctx)
			continue
		}
		m.Answered(t, call.InviteResponse.Body())
		pkts, _ := rtppcap.RFC4733Digits("#", 101)
		m.Play(pkts)
		waitFor(t, ada.Byes, "BYE after the readback")
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
