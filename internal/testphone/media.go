package testphone

import (
	"context"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"deskpbx/internal/rtppcap"
)

// Media is the RTP side of a phone's call: a real UDP socket on 127.0.0.1
// that sends RTP to the PBX and keeps what comes back.
type Media struct {
	conn   *net.UDPConn
	remote netip.AddrPort
	mu     sync.Mutex
	got    []rtp.Packet
	done   chan struct{}
}

// NewMedia opens the socket; it closes when t ends.
func NewMedia(t testing.TB) *Media {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	m := &Media{conn: conn, done: make(chan struct{})}
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

// Port is where the media listens, for the SDP offer.
func (m *Media) Port() int { return m.conn.LocalAddr().(*net.UDPAddr).Port }

// Answered points the media at the PBX's RTP address from its SDP answer.
func (m *Media) Answered(t testing.TB, answer []byte) {
	t.Helper()
	var ip string
	var port int
	for _, l := range splitLines(string(answer)) {
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

// Play sends packets on their schedule.
func (m *Media) Play(pkts []rtppcap.Packet) {
	start := time.Now()
	for _, pkt := range pkts {
		if d := time.Until(start.Add(pkt.At)); d > 0 {
			time.Sleep(d)
		}
		b, _ := pkt.Marshal()
		m.conn.WriteToUDPAddrPort(b, m.remote)
	}
}

// Received is a copy of the packets received so far, in order.
func (m *Media) Received() []rtp.Packet {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]rtp.Packet(nil), m.got...)
}

// AudioRMS is the RMS level (0..1) of the µ-law audio received so far,
// and how many packets came.
func (m *Media) AudioRMS() (float64, int) {
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

// KeyIn dials a feature code, types keys as RFC 4733 events in real RTP
// packets and waits until the PBX hangs up, having spoken its prompts.
func (p *Phone) KeyIn(t testing.TB, code, keys string) {
	t.Helper()
	m := NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := p.DialFeature(ctx, code, m)
	if err != nil {
		t.Fatalf("%s dials %s: %v", p.User, code, err)
	}
	m.Answered(t, call.InviteResponse.Body())
	pkts, err := rtppcap.RFC4733Digits(keys, 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.Play(pkts)
	p.waitHangup(t, call, 40*time.Second, code)
	if rms, n := m.AudioRMS(); n < 25 || rms < 0.01 {
		t.Fatalf("%s heard %d packets at RMS %.4f during %s: want spoken prompts", p.User, n, rms, code)
	}
}

// waitHangup waits for the PBX's BYE of call, passing over any BYE of an
// earlier call that ends up in Byes meanwhile.
func (p *Phone) waitHangup(t testing.TB, call *sipgo.DialogClientSession, timeout time.Duration, what string) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case bye := <-p.Byes:
			if bye.CallID().Value() == call.InviteRequest.CallID().Value() {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting for the PBX to hang up %s at %s", what, p.User)
		}
	}
}
