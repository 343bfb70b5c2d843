package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// toneIn counts the 20 ms blocks of freq Hz in the one call b recorded
// (received audio); -1 while there is no single recording to read.
func toneIn(b *baresip, freq float64) int {
	recs := b.recordings()
	if len(recs) != 1 {
		return -1
	}
	samples, rate, err := readWAV(recs[0])
	if err != nil {
		return -1
	}
	n, _ := toneBlocks(samples, rate, freq)
	return n
}

// baresip phones, the binary: alice calls bob, bob transfers her to
// carol from his console (/transfer, a blind REFER); alice is
// re-INVITEd with carol's offer and RTP flows both ways between them.
//
// Carol hears alice's tone. Alice receives carol's stream (a new SSRC
// from a new address) but baresip 1.0 may drop all of it: its jitter
// buffer keeps the old stream's sequence numbers across the SSRC change,
// so a new stream that starts at lower numbers is "too late" (ETIMEDOUT)
// packet after packet. That is the phone's bug (newer baresip flushes
// it); so of alice's side this test requires the new stream's arrival,
// and logs whether she could play it.
func TestBaresipBlindTransfer(t *testing.T) {
	requireBaresip(t)
	carol := user{number: "1003", domain: domain, password: "long-secret-1003"}
	p := newPBX(t, domain)
	for _, u := range []user{alice, bob, carol} {
		p.addExt(domain, u.number, u.password)
	}
	p.start()
	tone := func(freq float64) string {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("tone-%.0f.wav", freq))
		writeWAV(t, path, freq, -12, 180)
		return path
	}
	a := startBaresip(t, p, alice, baresipOpts{source: tone(1000), record: true})
	b := startBaresip(t, p, bob, baresipOpts{source: tone(600)})
	c := startBaresip(t, p, carol, baresipOpts{source: tone(1500), record: true})

	ma, mb, mc := a.mark(), b.mark(), c.mark()
	a.command("/dial " + bob.number)
	a.waitOutput(ma, 30*time.Second, "Call established")
	b.waitOutput(mb, 30*time.Second, "Call established")
	ma = a.mark()
	b.command("/transfer " + carol.number)
	c.waitOutput(mc, 30*time.Second, "Call established")
	p.waitLog(30*time.Second, `msg=transferred`, `by=1002@acme.example`, `to=1003@acme.example`)

	a.waitOutput(ma, 30*time.Second, "got re-INVITE (SDP Offer)")
	a.waitOutput(ma, 30*time.Second, "SSRC changed") // carol's RTP reaches alice

	// A second of alice's tone at carol, at most a minute from now.
	const want = 50
	deadline := time.Now().Add(60 * time.Second)
	for toneIn(c, 1000) < want && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if got := toneIn(c, 1000); got < want {
		t.Errorf("carol heard alice's 1 kHz tone in %d blocks, want at least %d", got, want)
	}
	t.Logf("alice played carol's 1.5 kHz tone in %d blocks (0 when baresip 1.0 drops the new stream as late)", toneIn(a, 1500))
	a.command("/hangup")
	c.waitOutput(mc, 30*time.Second, "terminated")
	a.stop()
	b.stop()
	c.stop()
	p.stop()
}
