package admin

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
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

// The media side of a test phone, adapted from pbx's feature tests: a
// phone dials a feature code with an SDP offer, sends keys as RFC 4733
// events in real RTP packets to the PBX's address from the SDP answer,
// and records what the PBX plays back.

// rtpPhone is a real UDP socket that sends RTP to the PBX and keeps
// what comes back.
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
	m := &rtpPhone{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			var pkt rtp.Packet
			if pkt.Unmarshal(append([]byte(nil), buf[:n]...)) == nil {
				m.mu.Lock()
				m.got = append(m.got, pkt)
				m.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-m.done })
	return m
}

func (m *rtpPhone) port() int { return m.conn.LocalAddr().(*net.UDPAddr).Port }

// answered points the media at the PBX's RTP address from its SDP answer.
func (m *rtpPhone) answered(t *testing.T, answer []byte) {
	t.Helper()
	var ip string
	var port int
	for _, l := range strings.Split(strings.ReplaceAll(string(answer), "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "c=IN IP4 ") {
			ip = strings.TrimSpace(strings.TrimPrefix(l, "c=IN IP4 "))
		}
		if strings.HasPrefix(l, "m=audio ") {
			port, _ = strconv.Atoi(strings.Fields(l)[1])
		}
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil || port == 0 {
		t.Fatalf("SDP answer without a usable RTP address: %q", answer)
	}
	m.remote = ap
}

// play sends packets on their schedule.
func (m *rtpPhone) play(pkts []rtppcap.Packet) {
	start := time.Now()
	for _, pkt := range pkts {
		if d := time.Until(start.Add(pkt.At)); d > 0 {
			time.Sleep(d)
		}
		b, _ := pkt.Marshal()
		m.conn.WriteToUDPAddrPort(b, m.remote)
	}
}

// audioRMS is the RMS level (0..1) of the µ-law audio received so far,
// and how many packets came.
func (m *rtpPhone) audioRMS() (float64, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sum float64
	n := 0
	for _, pkt := range m.got {
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
		return 0, len(m.got)
	}
	return math.Sqrt(sum / float64(n)), len(m.got)
}

// dialFeature calls a feature code (*072, ...) with an SDP offer for media
// and returns once the PBX answered and the call is acknowledged.
func (p *phone) dialFeature(ctx context.Context, code string, media *rtpPhone) (*sipgo.DialogClientSession, error) {
	host, port, _ := net.SplitHostPort(p.pbx)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: code, Host: host, Port: n})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.user, Host: p.domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: code, Host: p.domain}})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody([]byte(fmt.Sprintf(phoneSDP, media.port())))
	d, err := p.dua.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.user, Password: p.password}); err != nil {
		return d, err
	}
	return d, d.Ack(ctx)
}

// keyIn dials a feature code at p, types keys as RFC 4733 events and
// waits until the PBX hangs up, having spoken its prompts.
func (p *phone) keyIn(t *testing.T, code, keys string) {
	t.Helper()
	m := newRTPPhone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := p.dialFeature(ctx, code, m)
	if err != nil {
		t.Fatalf("%s dials %s: %v", p.user, code, err)
	}
	m.answered(t, call.InviteResponse.Body())
	pkts, err := rtppcap.RFC4733Digits(keys, 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.play(pkts)
	select {
	case <-p.byes:
	case <-time.After(40 * time.Second):
		t.Fatalf("timed out waiting for the PBX to hang up %s at %s", code, p.user)
	}
	if rms, n := m.audioRMS(); n < 25 || rms < 0.01 {
		t.Fatalf("%s heard %d packets at RMS %.4f during %s: want spoken prompts", p.user, n, rms, code)
	}
}

// answeredCalls is how many calls this phone has answered so far.
func (p *phone) answeredCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.inCalls)
}

// whoRings places a call from caller to number, says which of phones
// answered it, and hangs up. Every test phone answers at once, so the
// phone that answered is the one the PBX rang.
func whoRings(t *testing.T, caller *phone, number string, phones ...*phone) *phone {
	t.Helper()
	before := make([]int, len(phones))
	for i, p := range phones {
		before[i] = p.answeredCalls()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := caller.dial(ctx, number)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.user, number, err)
	}
	var rang *phone
	for i, p := range phones {
		if p.answeredCalls() > before[i] {
			if rang != nil {
				t.Fatalf("a call to %s was answered by both %s and %s", number, rang.user, p.user)
			}
			rang = p
		}
	}
	if rang == nil {
		t.Fatalf("a call from %s to %s was answered by none of the phones watched", caller.user, number)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("hang up %s: %v", number, err)
	}
	select {
	case <-rang.byes:
	case <-ctx.Done():
		t.Fatalf("no BYE at %s, the phone that rang for %s", rang.user, number)
	}
	return rang
}
