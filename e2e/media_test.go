package e2e

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// End-to-end tests of the PBX's own media with real SIP phones: the *44
// DTMF test and *43 echo test, and hot-desk login (*072) keyed in-band by
// SIPp and by RFC 4733 from baresip, each followed by a call that must ring
// the seat. What they check comes from deskpbx's log and from what the
// phones saw, never from timing.

const recordWait = 60 * time.Second // a log record after the keys that cause it

// featureCaller starts SIPp calling code as u, playing pcap once the PBX
// answers and waiting for the PBX's BYE. Its media socket is
// 127.0.0.1:mediaPort (it sends from there too, so the PBX latches onto it).
func featureCaller(t *testing.T, p *pbx, u user, sipPort int, code, pcap string) (s *sipp, mediaPort int) {
	t.Helper()
	u.callee = code
	inf := writeInf(t, t.TempDir(), "call.csv", u)
	mediaPort = freePort(t)
	s = startSIPp(t, "feature-"+u.number, "uac_auth_pcap.xml", sipPort, p.sipAddr, 1,
		"-inf", inf, "-key", "dtmf", pcap, "-mi", "127.0.0.1", "-mp", strconv.Itoa(mediaPort))
	return s, mediaPort
}

// requireRTPReceived fails unless the PBX's RTP reached SIPp's media socket.
func requireRTPReceived(t *testing.T, q udpQueue) {
	t.Helper()
	if q.samples == 0 {
		t.Log("no /proc/net/udp here: whether SIPp received RTP is not checked")
		return
	}
	if !q.seen || (q.maxRx == 0 && q.drops == 0) {
		t.Fatalf("SIPp's media socket received no RTP from deskpbx: %v", q)
	}
	t.Logf("SIPp's media socket: %v", q)
}

func TestSIPpDTMFTest(t *testing.T) {
	requireSIPp(t)
	p := newPBX(t, domain)
	p.addExt(domain, alice.number, alice.password)
	p.start()
	dir := t.TempDir()

	for _, tc := range []struct {
		name, method string
		inband       bool
	}{
		{"RFC 4733", "RFC 4733", false},
		{"in-band", "in-band", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(p.logRecords("dtmf test"))
			// A repeated key: RFC 4733 events need distinct timestamps.
			pcap := dtmfPcap(t, dir, tc.name+".pcap", "1559*#", tc.inband)
			s, mp := featureCaller(t, p, alice, freePort(t), "*44", pcap)
			stop := watchUDP(mp)
			// Exit 0 and one successful call: answered, and the PBX hung
			// up (BYE) after its readback.
			s.wait(1)
			q := stop()
			recs := p.logRecords("dtmf test")
			if len(recs) != before+1 {
				t.Fatalf("%d new \"dtmf test\" records, want 1: %v", len(recs)-before, recs[before:])
			}
			rec := recs[before]
			if rec["caller"] != alice.number+"@"+domain || rec["digits"] != "1559*" || rec["methods"] != tc.method {
				t.Fatalf("dtmf test record %v: want caller=%s@%s digits=1559* methods=%q", rec, alice.number, domain, tc.method)
			}
			requireRTPReceived(t, q)
		})
	}
	p.stop()
}

// silenceWAV is a baresip microphone that outlasts any call here.
func silenceWAV(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "silence.wav")
	writeWAV(t, path, 0, 0, 180)
	return path
}

var desk = user{number: "1005", domain: domain, password: "long-secret-1005"}

func TestBaresipDTMFTest(t *testing.T) {
	requireBaresip(t)
	p := newPBX(t, domain)
	p.addExt(domain, desk.number, desk.password)
	p.start()

	b := startBaresip(t, p, desk, baresipOpts{source: silenceWAV(t)})
	m := b.dial("*44")
	b.command("/sndcode 123#")
	rec := p.waitRecord(recordWait, "dtmf test", map[string]string{"caller": desk.number + "@" + domain})
	if rec["digits"] != "123" || rec["methods"] != "RFC 4733" {
		t.Fatalf("dtmf test record %v: want digits=123 methods=\"RFC 4733\"", rec)
	}
	// The PBX hangs up after reading the keys back.
	b.waitOutput(m, recordWait, "terminated")
	b.stop()
	p.stop()
}

func TestBaresipEchoTest(t *testing.T) {
	requireBaresip(t)
	p := newPBX(t, domain)
	p.addExt(domain, desk.number, desk.password)
	p.start()

	tone := filepath.Join(t.TempDir(), "tone-1k.wav")
	writeWAV(t, tone, 1000, -12, 180)
	b := startBaresip(t, p, desk, baresipOpts{source: tone, record: true})
	m := b.dial("*43")

	// *43 says its announcement, then sends back what it hears. Wait (at
	// most a minute) until a second of the tone has come back.
	const want = 50 // 20 ms blocks
	count := func() (tone, blocks int, path string) {
		recs := b.recordings()
		if len(recs) != 1 {
			return 0, 0, ""
		}
		samples, rate, err := readWAV(recs[0])
		if err != nil {
			return 0, 0, recs[0]
		}
		tone, blocks = toneBlocks(samples, rate, 1000)
		return tone, blocks, recs[0]
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if n, _, _ := count(); n >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	b.command("/hangup")
	b.waitOutput(m, 30*time.Second, "terminated")
	n, blocks, path := count()
	if path == "" {
		t.Fatalf("baresip recorded %d received-audio files, want 1: %v", len(b.recordings()), b.recordings())
	}
	if n < want {
		t.Fatalf("%s: the 1 kHz tone is in %d of %d 20 ms blocks of what came back, want at least %d", filepath.Base(path), n, blocks, want)
	}
	t.Logf("echo: 1 kHz tone in %d of %d received 20 ms blocks", n, blocks)
	b.stop()
	p.stop()
}

// hotDeskOffice: Ada (1001) may hot-desk with ID 5551234 and password
// 4826, Grace (1002) with 5551002 and 5937; 1003 and 1005 are desk phones.
func hotDeskOffice(t *testing.T) *pbx {
	t.Helper()
	p := newPBX(t, domain)
	p.importExts([][5]string{
		{domain, alice.number, alice.password, "", "Ada"},
		{domain, bob.number, bob.password, "", "Grace"},
		{domain, "1003", "long-secret-1003", "", "Desk 3"},
		{domain, desk.number, desk.password, "", "Desk 5"},
	})
	p.cli("hotdesk", "add", "-db", p.db, "-id", "5551234", "-password", "4826", domain, alice.number)
	p.cli("hotdesk", "add", "-db", p.db, "-id", "5551002", "-password", "5937", domain, bob.number)
	p.start()
	return p
}

func TestSIPpHotDeskLoginInband(t *testing.T) {
	requireSIPp(t)
	p := hotDeskOffice(t)
	seat := user{number: "1003", domain: domain, password: "long-secret-1003"}
	port := registered(t, p, seat)

	// The seat phone dials *072 from its registered port and keys Ada's
	// ID and password as in-band tones.
	pcap := dtmfPcap(t, t.TempDir(), "login.pcap", "5551234#4826#", true)
	login, mp := featureCaller(t, p, seat, port, "*072", pcap)
	stop := watchUDP(mp)
	login.wait(1) // answered, and hung up by the PBX after "logged in as"
	requireRTPReceived(t, stop())
	rec := p.waitRecord(recordWait, "hot-desk session live", map[string]string{"person": alice.number + "@" + domain})
	if rec["seat"] != seat.number+"@"+domain {
		t.Fatalf("session live record %v: want seat=%s@%s", rec, seat.number, domain)
	}

	// Ada's calls now ring the seat's registered contact.
	uas := startSIPp(t, "seat-"+seat.number, "uas.xml", port, "", 1)
	uas.waitListening()
	caller := startCaller(t, p, user{number: bob.number, domain: domain, password: bob.password, callee: alice.number},
		"uac_auth.xml", "-d", "500")
	caller.wait(1)
	uas.wait(1)
	p.stop()
}

func TestBaresipHotDeskLoginRFC4733(t *testing.T) {
	requireBaresip(t)
	requireSIPp(t)
	p := hotDeskOffice(t)

	b := startBaresip(t, p, desk, baresipOpts{source: silenceWAV(t)})
	m := b.dial("*072")
	b.command("/sndcode 5551002#5937#")
	rec := p.waitRecord(recordWait, "hot-desk session live", map[string]string{"person": bob.number + "@" + domain})
	if rec["seat"] != desk.number+"@"+domain {
		t.Fatalf("session live record %v: want seat=%s@%s", rec, desk.number, domain)
	}
	b.waitOutput(m, recordWait, "terminated") // "logged in as", then the PBX hangs up

	// Grace's calls now ring baresip, which answers by itself.
	m = b.mark()
	caller := startCaller(t, p, user{number: alice.number, domain: domain, password: alice.password, callee: bob.number},
		"uac_auth.xml", "-d", "500")
	caller.wait(1)
	b.waitOutput(m, 30*time.Second, "Call established")
	b.stop()
	p.stop()
}
