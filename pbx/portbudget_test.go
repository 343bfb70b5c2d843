package pbx

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"

	"deskpbx/internal/testphone"
)

// holdEcho has p dial the echo test and keeps the call up until the
// test ends; it returns the INVITE's error (nil when answered).
func holdEcho(t *testing.T, p *testphone.Phone) error {
	t.Helper()
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := p.DialFeature(ctx, "*43", m)
	if err != nil {
		return err
	}
	m.Answered(t, call.InviteResponse.Body())
	t.Cleanup(func() { hangUp(call) })
	return nil
}

func hangUp(call *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	call.Bye(ctx)
}

// The attack: one phone dials the echo test over and over, each call
// holding an RTP port (for up to two minutes now, ten before), until the
// range is gone. Four at once are allowed; the fifth is busy.
func TestOnePhoneGetsAtMostFourFeatureCalls(t *testing.T) {
	o := newOffice(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()
	for i := range 4 {
		if err := holdEcho(t, ada); err != nil {
			t.Fatalf("echo call %d: %v", i+1, err)
		}
	}
	if err := holdEcho(t, ada); testphone.StatusOf(err) != 486 {
		t.Fatalf("fifth echo call from the same phone: %v, want 486 Busy Here", err)
	}
	if got := o.srv.ports.InUse(); got != 4 {
		t.Errorf("%d RTP ports in use, want the 4 calls' only", got)
	}
	// The cap is per phone: another phone is not refused.
	if err := holdEcho(t, grace); err != nil {
		t.Fatalf("another phone's echo call: %v", err)
	}
}

// The attack: ordinary feature calls fill the RTP range, and nobody can
// log in or out of a desk any more. The ports kept back for *072/*073
// are not given to other calls, so a login still gets one.
func TestHotDeskLoginWorksWithTheRTPRangeFull(t *testing.T) {
	o, _ := hotdeskOffice(t)
	// 10 ports, 2 of them kept back: a range small enough to fill.
	o.stop()
	o.start(func(c *Config) { c.RTPPorts, c.RTPReserve = freeUDPRange(t, 20), 2 })
	ada, grace, desk := o.phone("1001"), o.phone("1002"), o.phone("1003")
	for _, p := range []*testphone.Phone{ada, grace, desk} {
		p.Register()
	}
	for _, p := range []*testphone.Phone{ada, grace} {
		for i := range 4 {
			if err := holdEcho(t, p); err != nil {
				t.Fatalf("%s: echo call %d: %v", p.User, i+1, err)
			}
		}
	}
	if err := holdEcho(t, desk); testphone.StatusOf(err) != 503 {
		t.Fatalf("echo call with only the reserve left: %v, want 503", err)
	}
	desk.KeyIn(t, "*072", "5551234#4826#")
	if n := seated(t, o); n != 1 {
		t.Fatalf("*072 with the range full: %d sessions, want 1", n)
	}
	desk.KeyIn(t, "*073", "5551234#4826#")
	if n := seated(t, o); n != 0 {
		t.Fatalf("*073 with the range full: %d sessions, want 0", n)
	}
}

// freeUDPRange returns n consecutive UDP ports free on 127.0.0.1 right
// now, from an even one (RTP even, RTCP the odd one above), in 10000-19999:
// below the kernel's ephemeral range, where another test binary's ":0"
// can take a port between this check and the call that binds it (a fixed
// range there filled early so), and apart from e2e's ports (20000-29900).
func freeUDPRange(t *testing.T, n int) [2]int {
	t.Helper()
	free := func(p int) bool {
		c, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	for range 200 {
		lo := 10000 + 2*rand.IntN((10000-n)/2)
		ok := true
		for p := lo; p < lo+n && ok; p++ {
			ok = free(p)
		}
		if ok {
			return [2]int{lo, lo + n - 1}
		}
	}
	t.Fatalf("no %d consecutive free UDP ports on 127.0.0.1", n)
	return [2]int{}
}
