package e2e

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"deskpbx/internal/rtppcap"
)

// messagePcap is a caller for SIPp: silence through the spoken greeting
// and the beep (about 8.6 s; deskpbx ends a message after 5 s of
// silence, so the keys must come within that), then the keys 2 5 8 0 six
// times (a slow box may play the greeting late) as in-band tones: real
// audio whose content can be decoded back. Then nothing, so deskpbx ends
// the message on silence and hangs up.
func messagePcap(t *testing.T) string {
	t.Helper()
	pkts, err := rtppcap.InbandDigits(strings.Repeat("2580", 6), rtppcap.PCMU, -10, rtppcap.WithLeadIn(10500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "message.pcap")
	src, dst := netip.MustParseAddrPort("192.0.2.1:6000"), netip.MustParseAddrPort("192.0.2.2:6000")
	if err := rtppcap.WriteFile(path, src, dst, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

// kill9 ends deskpbx as a power cut or the OOM killer would.
func (p *pbx) kill9() {
	p.t.Helper()
	p.mu.Lock()
	cmd, exited := p.proc, p.exited
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// messages is what deskpbx voicemail list shows for number, one line
// per message.
func (p *pbx) messages(number string) []string {
	p.t.Helper()
	lines := strings.Split(strings.TrimSpace(p.cli("voicemail", "list", "-db", p.db, domain, number)), "\n")
	return lines[1:]
}

func (p *pbx) audioFiles() []string {
	p.t.Helper()
	files, _ := filepath.Glob(filepath.Join(p.dir, "voicemail", "*.wav"))
	return files
}

func TestSIPpMessageForAnUnregisteredPhoneSurvivesRestartNotKill9(t *testing.T) {
	requireSIPp(t)
	multimon, err := exec.LookPath("multimon-ng")
	if err != nil {
		t.Skip("multimon-ng not installed")
	}
	p := newPBX(t, domain)
	p.addExt(domain, alice.number, alice.password)
	p.addExt(domain, bob.number, bob.password) // Bob's phone never registers
	p.start()
	pcap := messagePcap(t)

	// deskpbx is killed while Alice is keying her message in: no message
	// may be listed, and no audio left behind, after it starts again.
	featureCaller(t, p, alice, freePort(t), bob.number, pcap)
	p.waitRecord(recordWait, "dtmf", map[string]string{"digit": "2", "method": "in-band"})
	p.kill9()
	if msgs := p.messages(bob.number); len(msgs) != 0 {
		t.Fatalf("after kill -9 during a message, voicemail list shows %q", msgs)
	}
	p.start()
	if files := p.audioFiles(); len(files) != 0 {
		t.Fatalf("audio files after kill -9 and a restart: %v", files)
	}

	// The same message in full: deskpbx ends it on silence and hangs up.
	s, _ := featureCaller(t, p, alice, freePort(t), bob.number, pcap)
	s.wait(1)
	p.waitRecord(recordWait, "voicemail left", map[string]string{"mailbox": bob.number + "@" + domain})
	msgs := p.messages(bob.number)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "new") || strings.Fields(msgs[0])[1] != alice.number {
		t.Fatalf("voicemail list for Bob: %q, want one new message from %s", msgs, alice.number)
	}

	p.stop()
	p.start()
	if again := p.messages(bob.number); len(again) != 1 || again[0] != msgs[0] {
		t.Fatalf("after a restart voicemail list shows %q, want %q", again, msgs)
	}
	files := p.audioFiles()
	if len(files) != 1 {
		t.Fatalf("audio files: %v, want the one message", files)
	}
	if fi, _ := os.Stat(filepath.Dir(files[0])); fi.Mode().Perm() != 0o700 {
		t.Errorf("voicemail directory mode %v, want 0700", fi.Mode().Perm())
	}
	out, err := exec.Command(multimon, "-q", "-a", "DTMF", "-t", "wav", files[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("multimon-ng: %v\n%s", err, out)
	}
	keys := strings.ReplaceAll(strings.ReplaceAll(string(out), "DTMF: ", ""), "\n", "")
	// A slow box may play the greeting late; a key then cuts it short
	// (as callers do), so the first keys may be missing, never the rest.
	if !strings.Contains(keys, "2580") {
		t.Fatalf("multimon-ng decodes %q from the stored message, want the 2580 Alice keyed in", keys)
	}
	p.stop()
}
