package pbx

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// provider is a SIP provider on 127.0.0.2 (deskpbx's phones are on
// 127.0.0.1, so their addresses never look like the trunk's): it answers
// every call with SDP for its own media port and every re-INVITE, and
// keeps the bodies it was offered.
type provider struct {
	addr   string
	mu     sync.Mutex
	offers []string // INVITE and re-INVITE bodies, in order
	byes   chan struct{}
}

func newProvider(t *testing.T) *provider {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	p := &provider{addr: conn.LocalAddr().String(), byes: make(chan struct{}, 4)}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("provider"), sipgo.WithUserAgentHostname("127.0.0.2"))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := sipgo.NewServer(ua)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", Host: "127.0.0.2", Port: port}}
	sdp := func(dir string) []byte {
		return []byte(fmt.Sprintf("v=0\r\no=- 2 2 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n", dir))
	}
	answer := func(req *sip.Request, tx sip.ServerTransaction, dir string) {
		p.mu.Lock()
		p.offers = append(p.offers, string(req.Body()))
		p.mu.Unlock()
		res := sip.NewResponseFromRequest(req, 200, "OK", sdp(dir))
		if !req.To().Params.Has("tag") {
			res.To().Params.Add("tag", sip.GenerateTagN(8))
		}
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		res.AppendHeader(&contact)
		tx.Respond(res)
	}
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		dir := "sendrecv"
		if strings.Contains(string(req.Body()), "a=sendonly") {
			dir = "recvonly"
		}
		answer(req, tx, dir)
	})
	srv.OnAck(func(*sip.Request, sip.ServerTransaction) {})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		p.byes <- struct{}{}
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	done := make(chan struct{})
	go func() { defer close(done); srv.ServeUDP(conn) }()
	t.Cleanup(func() { srv.Close(); conn.Close(); ua.Close(); <-done })
	return p
}

func (p *provider) offer(i int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i >= len(p.offers) {
		return ""
	}
	return p.offers[i]
}

func audioPort(body string) int {
	for _, l := range strings.Split(body, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "m=audio" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// On a call out through a trunk neither side learns the other's media
// address, also when the phone puts the call on hold: the re-INVITE
// reaches the provider pointing at the relay, and its answer reaches the
// phone pointing at the relay.
func TestTrunkCallHoldKeepsMediaAnchored(t *testing.T) {
	o := newOffice(t)
	prov := newProvider(t)
	if _, err := o.db.CreateTrunk(context.Background(), store.NewTrunk{Domain: "acme.example", Name: "main", Host: prov.addr}); err != nil {
		t.Fatal(err)
	}
	o.stop()
	o.start()
	ada := o.phone("1001")
	ada.Register()
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The trunk table loads just after start.
	for i := 0; len(o.srv.Trunks()) == 0; i++ {
		if i > 100 {
			t.Fatal("the trunk was not loaded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	call, err := ada.DialFeature(ctx, "5557001", m) // national: the default permission
	if err != nil {
		t.Fatalf("call out: %v", err)
	}
	answer := string(call.InviteResponse.Body())
	phoneSidePort := audioPort(answer)
	first := prov.offer(0)
	providerSidePort := audioPort(first)
	if strings.Contains(answer, "127.0.0.2") || phoneSidePort == 7000 || phoneSidePort == 0 {
		t.Fatalf("the phone was given the provider's media:\n%s", answer)
	}
	if providerSidePort == m.Port() || providerSidePort == 0 || !strings.Contains(first, "c=IN IP4 127.0.0.1") {
		t.Fatalf("the provider was offered the phone's media:\n%s", first)
	}

	res, err := testphone.Reinvite(ctx, call, testphone.SDP(m.Port(), "sendonly"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("hold: %v %v", res, err)
	}
	hold := prov.offer(1)
	if audioPort(hold) != providerSidePort || !strings.Contains(hold, "a=sendonly") {
		t.Fatalf("the provider got the hold re-INVITE as:\n%s\nwant the relay's port %d, sendonly", hold, providerSidePort)
	}
	if got := string(res.Body()); audioPort(got) != phoneSidePort || strings.Contains(got, "127.0.0.2") || !strings.Contains(got, "a=recvonly") {
		t.Fatalf("the phone got the hold answer as:\n%s\nwant the relay's port %d, recvonly", got, phoneSidePort)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, prov.byes, "BYE at the provider")
}
