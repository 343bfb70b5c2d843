package e2e

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/rtppcap"
	"deskpbx/internal/testphone"
)

// freePortOn is a UDP port free on ip right now.
func freePortOn(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// waitBound waits until something has bound UDP ip:port.
func waitBound(t *testing.T, ip string, port int) {
	t.Helper()
	waitUntil(t, 30*time.Second, "binding "+ip+":"+strconv.Itoa(port), func() bool {
		c, err := net.ListenPacket("udp4", ip+":"+strconv.Itoa(port))
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
}

// An office on deskpbx with one trunk to a provider played by Kamailio:
// the trunk registers and refreshes; Ada, hot-desked at a shared desk,
// calls out with her own outside number and RTP crossing deskpbx both
// ways; 911 from a phone nobody sits at carries that phone's emergency
// caller ID; a customer's call to Ada's DID rings the desk she sits at; a
// forged provider call is refused; and with the provider gone the trunk
// shows failing and a call out is told so at once.
func TestTrunkThroughKamailioProvider(t *testing.T) {
	requireSIPp(t)
	kamBin := requireKamailio(t)
	const password = "Trunk-Pw-77"

	p := newPBX(t, "acme.example")
	for _, n := range []string{"1001", "2001", "2002"} {
		p.addExt("acme.example", n, "secret-"+n)
	}
	kport, calleePort := freePortOn(t, providerIP), freePortOn(t, providerIP)
	p.cli("trunk", "add", "-db", p.db, "-host", providerIP+":"+strconv.Itoa(kport), "-username", "acme",
		"-password", password, "-register", "-from-domain", "provider.test", "acme.example", "main")
	// A second trunk to the same provider, not registering: checked with
	// OPTIONS, and sharing its address with the first.
	p.cli("trunk", "add", "-db", p.db, "-host", providerIP+":"+strconv.Itoa(kport), "acme.example", "backup")
	p.cli("did", "add", "-db", p.db, "acme.example", "+15550101", "1001")
	p.cli("ext", "set", "-db", p.db, "-outside-cid", "+15550199", "acme.example", "1001")
	p.cli("ext", "set", "-db", p.db, "-emergency-cid", "+15550150", "acme.example", "2001")
	p.cli("ext", "set", "-db", p.db, "-emergency-cid", "+15550160", "-outside", "internal", "acme.example", "2002")
	p.cli("tenant", "set", "-db", p.db, "-main-number", "+15550100", "-national-prefix", "+1", "acme.example")
	p.cli("hotdesk", "add", "-db", p.db, "-id", "5551234", "-password", "4826", "acme.example", "1001")

	// Registrations granted for 4 s: deskpbx refreshes every 2 s.
	kam := startKamailio(t, kamBin, kport, map[string]string{"PASSWORD": password, "EXPIRES": "4",
		"PBXIP": "127.0.0.1", "CALLEE": providerIP + ":" + strconv.Itoa(calleePort)})
	p.start()

	t.Run("registers and re-registers", func(t *testing.T) {
		waitUntil(t, 60*time.Second, "two trunk registrations", func() bool { return len(p.logRecords("trunk registered")) >= 2 })
		waitUntil(t, 60*time.Second, "trunk list showing main registered and backup reachable", func() bool {
			out := p.cli("trunk", "list", "-db", p.db)
			return strings.Contains(out, " registered") && strings.Contains(out, "reachable")
		})
		if out := p.cli("trunk", "list", "-db", p.db); strings.Contains(out, password) {
			t.Fatalf("trunk list shows the password: %q", out)
		}
	})

	t.Run("unregisters when stopped, registers again when started", func(t *testing.T) {
		p.stop()
		if out := p.cli("trunk", "list", "-db", p.db); !strings.Contains(out, "unregistered (deskpbx stopped)") {
			t.Fatalf("after stopping, trunk list = %q, want main unregistered by deskpbx", out)
		}
		p.start()
		waitUntil(t, 60*time.Second, "main registered again", func() bool {
			return strings.Contains(p.cli("trunk", "list", "-db", p.db), " registered")
		})
	})

	desk := testphone.New(t, p.sipAddr, "2001", "acme.example", "secret-2001")
	lobby := testphone.New(t, p.sipAddr, "2002", "acme.example", "secret-2002")
	desk.Register()
	lobby.Register()
	desk.KeyIn(t, "*072", "5551234#4826#") // Ada sits at the desk

	callee, echo := startOutsideCallee(t, calleePort, 2)

	t.Run("hot-desker calls out with her number, RTP relayed both ways", func(t *testing.T) {
		m := testphone.NewMedia(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		call, err := desk.DialFeature(ctx, "+15557001", m)
		if err != nil {
			t.Fatalf("call out: %v", err)
		}
		m.Answered(t, call.InviteResponse.Body())
		if strings.Contains(string(call.InviteResponse.Body()), providerIP) {
			t.Fatalf("the phone was given the provider's media address, not deskpbx's:\n%s", call.InviteResponse.Body())
		}
		echoedBack(t, m, echo)
		if err := call.Bye(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("the lobby phone may not call out: told why as early media, then 403", func(t *testing.T) {
		testphone.DialRefused(t, lobby, "+15557002", 403, 25)
	})

	t.Run("SIPp as the lobby phone: 183 with SDP, the message's RTP, then 403", func(t *testing.T) {
		media := newRTPEchoOn(t, "127.0.0.1")
		caller := startCaller(t, p, user{number: "2002", domain: "acme.example", password: "secret-2002", callee: "+15557003"},
			"uac_auth_early_refused.xml", "-key", "rtp_ip", "127.0.0.1", "-key", "rtp_port", strconv.Itoa(media.port()))
		caller.wait(1)
		if n, rms := media.received.Load(), media.rms(); n < 25 || rms < 0.01 {
			t.Fatalf("SIPp's media got %d RTP packets at RMS %.4f: want the spoken message", n, rms)
		}
	})

	t.Run("911 from a phone nobody sits at, with its emergency caller ID", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		call, err := lobby.DialFeature(ctx, "911", testphone.NewMedia(t))
		if err != nil {
			t.Fatalf("911: %v", err)
		}
		p.waitRecord(30*time.Second, "EMERGENCY CALL placed", map[string]string{"phone": "2002@acme.example", "caller_id": "+15550160"})
		if err := call.Bye(ctx); err != nil {
			t.Fatal(err)
		}
		callee.wait(2)
		msgs, err := os.ReadFile(callee.files["msg"])
		if err != nil {
			t.Fatal(err)
		}
		for _, refused := range []string{"+15557002", "+15557003"} {
			if inv := receivedInvite(string(msgs), refused); inv != "" {
				t.Fatalf("a refused call reached the provider:\n%s", inv)
			}
		}
		for number, cid := range map[string]string{"+15557001": "+15550199", "911": "+15550160"} {
			inv := receivedInvite(string(msgs), number)
			if inv == "" {
				t.Fatalf("the outside callee got no INVITE for %s:\n%s", number, msgs)
			}
			for _, h := range []string{"From:", "P-Asserted-Identity:"} {
				if line := headerLine(inv, h); !strings.Contains(line, "sip:"+cid+"@provider.test") {
					t.Errorf("call to %s: %s %q, want caller ID %s", number, h, line, cid)
				}
			}
		}
	})

	t.Run("a call to Ada's DID rings the desk she sits at", func(t *testing.T) {
		before := desk.Calls()
		callDIDFromOutside(t, kport, "+15550101", desk)
		if desk.Calls() != before+1 {
			t.Fatalf("desk rang %d times, want once", desk.Calls()-before)
		}
	})

	t.Run("a forged provider call from elsewhere gets 403 and rings nothing", func(t *testing.T) {
		before := desk.Calls()
		forged := startSIPp(t, "scanner", "trunk_forged.xml", freePortOn(t, scannerIP), p.sipAddr, 1,
			"-i", scannerIP, "-s", "+15550101")
		forged.wait(1)
		if desk.Calls() != before {
			t.Fatal("the forged call rang the desk")
		}
	})

	t.Run("provider gone: trunk failing, a call out is told at once", func(t *testing.T) {
		kam.stop()
		waitUntil(t, 60*time.Second, "trunk list showing failing", func() bool {
			return strings.Contains(p.cli("trunk", "list", "-db", p.db), "failing")
		})
		// The issue: "fails fast with a spoken message". The message is
		// early media (183), and the call is never answered: 503.
		testphone.DialRefused(t, desk, "+15557001", 503, 25)
	})
}

// echoedBack plays speech with RFC 4733 digits from m, whose call
// reaches the outside callee's echo through deskpbx's relay, and waits
// until the digits reached the echo and something came back to m.
func echoedBack(t *testing.T, m *testphone.Media, echo *rtpEcho) {
	t.Helper()
	pkts, err := rtppcap.RFC4733Digits("159", 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.Play(pkts)
	waitUntil(t, 30*time.Second, "RTP at the outside callee and its echo back at the phone", func() bool {
		return echo.events.Load() > 0 && len(m.Received()) > 0
	})
	t.Logf("RTP: %d packets sent by the phone, %d reached the outside callee (%d RFC 4733), %d came back",
		len(pkts), echo.received.Load(), echo.events.Load(), len(m.Received()))
}

// callDIDFromOutside has SIPp, as the outside caller +15557777, call did
// at the provider listening on providerIP:kport, and waits until the
// call rings phone showing that caller, and the caller has hung up.
func callDIDFromOutside(t *testing.T, kport int, did string, phone *testphone.Phone) {
	t.Helper()
	caller := startSIPp(t, "outside-caller", "trunk_caller.xml", freePortOn(t, providerIP), providerIP+":"+strconv.Itoa(kport), 1,
		"-i", providerIP, "-s", did, "-key", "caller", "+15557777")
	select {
	case in := <-phone.Incoming:
		if got := in.Req.From().Address.User; got != "+15557777" {
			t.Errorf("%s shows the caller as %q, want +15557777", phone.User, got)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("the call to %s did not ring %s", did, phone.User)
	}
	caller.wait(1)
}

// receivedInvite is the INVITE for number in a SIPp message trace.
func receivedInvite(trace, number string) string {
	i := strings.Index(trace, "INVITE sip:"+number+"@")
	if i < 0 {
		return ""
	}
	rest := trace[i:]
	if j := strings.Index(rest, "\n\n"); j > 0 {
		rest = rest[:j]
	}
	return rest
}

func headerLine(msg, name string) string {
	for _, l := range strings.Split(msg, "\n") {
		if strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// A phone in an office whose address got blocked for guessing passwords
// (a misconfigured phone beside it, say) can call nothing, but 911 still
// goes out: over a trunk recognised by address, straight to the callee.
func TestEmergencyCallPassesTheGuessingGuard(t *testing.T) {
	requireSIPp(t)
	p := newPBX(t, "acme.example")
	p.addExt("acme.example", "2002", "secret-2002")
	p.addExt("acme.example", "2003", "secret-2003")
	calleePort := freePortOn(t, providerIP)
	p.cli("trunk", "add", "-db", p.db, "-host", providerIP+":"+strconv.Itoa(calleePort), "acme.example", "direct")
	p.cli("ext", "set", "-db", p.db, "-emergency-cid", "+15550160", "acme.example", "2002")
	p.start()

	lobby := testphone.New(t, p.sipAddr, "2002", "acme.example", "secret-2002")
	lobby.Register()
	misconfigured := testphone.New(t, p.sipAddr, "2003", "acme.example", "not-the-password")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	for i := 0; i < 25; i++ {
		if _, err := misconfigured.Dial(ctx, "2002"); testphone.StatusOf(err) != 403 {
			t.Fatalf("wrong password, try %d: %v, want 403", i+1, err)
		}
	}
	p.waitLog(30*time.Second, "source blocked")
	if _, err := lobby.Dial(ctx, "2003"); testphone.StatusOf(err) != 403 {
		t.Fatalf("an ordinary call from the blocked address: %v, want 403", err)
	}

	echo := newRTPEcho(t)
	// SIPp leaves the trunk's OPTIONS unanswered: the trunk shows failing,
	// which an emergency call does not heed.
	callee := startSIPp(t, "callee", "trunk_callee.xml", calleePort, "", 1,
		"-i", providerIP, "-key", "rtp_ip", providerIP, "-key", "rtp_port", strconv.Itoa(echo.port()))
	waitBound(t, providerIP, calleePort)
	call, err := lobby.DialFeature(ctx, "911", testphone.NewMedia(t))
	if err != nil {
		t.Fatalf("911 from the blocked address: %v, want it answered", err)
	}
	if err := call.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	callee.wait(1)
	msgs, err := os.ReadFile(callee.files["msg"])
	if err != nil {
		t.Fatal(err)
	}
	if line := headerLine(receivedInvite(string(msgs), "911"), "P-Asserted-Identity:"); !strings.Contains(line, "sip:+15550160@") {
		t.Fatalf("911 went out with %q, want the phone's emergency caller ID +15550160", line)
	}
}
