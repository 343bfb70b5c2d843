package rtppcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

var (
	testSrc = netip.MustParseAddrPort("192.0.2.1:6000")
	testDst = netip.MustParseAddrPort("192.0.2.2:6000")
)

func writeTemp(t *testing.T, name string, pkts []Packet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := WriteFile(path, testSrc, testDst, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

type readPacket struct {
	Record
	rtp rtp.Packet
}

func readAll(t *testing.T, path string) []readPacket {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []readPacket
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(rec.Payload); err != nil {
			t.Fatalf("packet %d: not RTP: %v", len(out), err)
		}
		out = append(out, readPacket{rec, p})
	}
}

// checkStream asserts what any RTP receiver relies on: one SSRC, seq +1 per
// packet (mod 2^16), timestamps that never go backwards (mod 2^32), and a
// capture clock that agrees with the RTP clock.
func checkStream(t *testing.T, got []readPacket) {
	t.Helper()
	if len(got) == 0 {
		t.Fatal("no packets")
	}
	first := got[0]
	for i, p := range got {
		if p.Src != testSrc || p.Dst != testDst {
			t.Errorf("packet %d: %v -> %v", i, p.Src, p.Dst)
		}
		if p.rtp.SSRC != first.rtp.SSRC || p.rtp.Version != 2 {
			t.Errorf("packet %d: SSRC %#x version %d", i, p.rtp.SSRC, p.rtp.Version)
		}
		if i == 0 {
			continue
		}
		prev := got[i-1]
		if p.rtp.SequenceNumber != prev.rtp.SequenceNumber+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.rtp.SequenceNumber, prev.rtp.SequenceNumber)
		}
		if d := int32(p.rtp.Timestamp - prev.rtp.Timestamp); d < 0 {
			t.Errorf("packet %d: timestamp %d after %d", i, p.rtp.Timestamp, prev.rtp.Timestamp)
		}
		dt := p.Time.Sub(prev.Time)
		if dt < 0 || dt%Ptime != 0 {
			t.Errorf("packet %d: %v after the previous one, want a multiple of 20ms", i, dt)
		}
		// Audio packets' timestamps track the capture clock exactly.
		if p.rtp.PayloadType == first.rtp.PayloadType && p.rtp.PayloadType < 96 {
			wantTS := first.rtp.Timestamp + uint32(p.Time.Sub(first.Time)/Ptime)*samplesPerFrame
			if p.rtp.Timestamp != wantTS {
				t.Errorf("packet %d: timestamp %d, capture time says %d", i, p.rtp.Timestamp, wantTS)
			}
		}
	}
}

type event struct {
	code     uint8
	ts       uint32
	dur      uint16
	packets  int
	ends     int
	marker   bool
	seqStart uint16
}

// events groups telephone-event packets by timestamp and checks each event
// is shaped as RFC 4733 section 2.5 describes.
func events(t *testing.T, got []readPacket, pt uint8) []event {
	t.Helper()
	var evs []event
	for i, p := range got {
		if p.rtp.PayloadType != pt {
			continue
		}
		pl := p.rtp.Payload
		if len(pl) != 4 {
			t.Fatalf("packet %d: event payload of %d bytes", i, len(pl))
		}
		code, end, dur := pl[0], pl[1]&0x80 != 0, uint16(pl[2])<<8|uint16(pl[3])
		if len(evs) == 0 || evs[len(evs)-1].ts != p.rtp.Timestamp {
			if !p.rtp.Marker {
				t.Errorf("packet %d: first packet of an event without marker", i)
			}
			evs = append(evs, event{code: code, ts: p.rtp.Timestamp, marker: true, seqStart: p.rtp.SequenceNumber})
		} else if p.rtp.Marker {
			t.Errorf("packet %d: marker inside an event", i)
		}
		e := &evs[len(evs)-1]
		if code != e.code {
			t.Errorf("packet %d: event %d inside event %d", i, code, e.code)
		}
		if dur < e.dur {
			t.Errorf("packet %d: duration shrank %d -> %d", i, e.dur, dur)
		}
		if e.ends > 0 && (!end || dur != e.dur) {
			t.Errorf("packet %d: non-identical packet after an end packet", i)
		}
		if end {
			e.ends++
		}
		e.dur = dur
		e.packets++
	}
	for i := 1; i < len(evs); i++ {
		if int32(evs[i].ts-evs[i-1].ts) <= int32(evs[i-1].dur) {
			t.Errorf("event %d (ts %d) overlaps or repeats event %d (ts %d, dur %d)",
				i, evs[i].ts, i-1, evs[i-1].ts, evs[i-1].dur)
		}
	}
	return evs
}

func TestRFC4733ReadBack(t *testing.T) {
	for _, audio := range []bool{false, true} {
		t.Run(fmt.Sprintf("audio=%v", audio), func(t *testing.T) {
			opts := []Option{}
			if audio {
				opts = append(opts, WithAudio(PCMU), WithLeadIn(60*time.Millisecond))
			}
			const digits = "1123#*0A"
			pkts, err := RFC4733Digits(digits, 101, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, writeTemp(t, "e.pcap", pkts))
			if len(got) != len(pkts) {
				t.Fatalf("read %d packets, wrote %d", len(got), len(pkts))
			}
			checkStream(t, got)
			for i, p := range got {
				want, _ := pkts[i].Marshal()
				if !bytes.Equal(p.Payload, want) {
					t.Fatalf("packet %d: payload differs", i)
				}
				if p.Time != epoch.Add(pkts[i].At) {
					t.Errorf("packet %d: time %v, want %v", i, p.Time, epoch.Add(pkts[i].At))
				}
			}
			evs := events(t, got, 101)
			if len(evs) != len(digits) {
				t.Fatalf("%d events, want %d", len(evs), len(digits))
			}
			for i, e := range evs {
				want, _ := eventCode(rune(digits[i]))
				if e.code != want || e.dur != 800 || e.ends != 3 || e.packets != 7 {
					t.Errorf("event %d: %+v, want code %d, duration 800, 7 packets with 3 ends", i, e, want)
				}
			}
			if !audio {
				// 7 packets per digit; the two end repeats take the first
				// 40 ms of the 100 ms gap, so the next start is 80 ms after
				// the last repeat.
				if d := got[7].Time.Sub(got[6].Time); d != 80*time.Millisecond {
					t.Errorf("gap between digits %v, want 80ms", d)
				}
				return
			}
			// With audio every slot carries exactly one packet, as a real
			// phone's stream does.
			for i := 1; i < len(got); i++ {
				if d := got[i].Time.Sub(got[i-1].Time); d != Ptime {
					t.Fatalf("packet %d: %v after the previous one", i, d)
				}
			}
			var audioPkts int
			for i, p := range got {
				if p.rtp.PayloadType != 0 {
					continue
				}
				audioPkts++
				if !bytes.Equal(p.rtp.Payload, bytes.Repeat([]byte{0xff}, 160)) {
					t.Errorf("packet %d: audio is not µ-law silence", i)
				}
				after := i > 0 && got[i-1].rtp.PayloadType != 0
				if p.rtp.Marker != (i == 0 || after) {
					t.Errorf("packet %d: marker %v; want it only where a talkspurt starts", i, p.rtp.Marker)
				}
			}
			if want := 3 + 3*len(digits); audioPkts != want {
				t.Errorf("%d audio packets, want %d", audioPkts, want)
			}
		})
	}
}

func TestWrapAround(t *testing.T) {
	pkts, err := RFC4733Digits("12", 96, WithSeq(65533), WithTimestamp(math.MaxUint32-500), WithAudio(PCMA))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, writeTemp(t, "w.pcap", pkts))
	checkStream(t, got)
	if len(events(t, got, 96)) != 2 {
		t.Error("wrapped stream lost an event")
	}
	if last := got[len(got)-1].rtp; last.PayloadType != 8 || last.Payload[0] != 0xd5 {
		t.Errorf("stream does not end in A-law silence: pt %d, %#x", last.PayloadType, last.Payload[0])
	}
}

// goertzel returns the power of f in s relative to a full-scale sine.
func goertzel(s []float64, f float64) float64 {
	w := 2 * math.Pi * f / 8000
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range s {
		s1, s2 = x+c*s1-s2, s1
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(s))
	return p / (n * n / 4)
}

func TestInbandTones(t *testing.T) {
	const digits = "147*2580369#ABCD"
	allF := append(dtmfLow[:], dtmfHigh[:]...)
	for _, codec := range []Codec{PCMU, PCMA} {
		t.Run(codec.String(), func(t *testing.T) {
			const level = -10.0
			pkts, err := InbandDigits(digits, codec, level, WithLeadIn(40*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, writeTemp(t, "i.pcap", pkts))
			checkStream(t, got)
			if want := 2 + 10*len(digits); len(got) != want {
				t.Fatalf("%d packets, want %d", len(got), want)
			}
			for i, p := range got {
				if p.rtp.PayloadType != uint8(codec) || p.rtp.Marker != (i == 0) || len(p.rtp.Payload) != 160 {
					t.Fatalf("packet %d: pt %d marker %v len %d", i, p.rtp.PayloadType, p.rtp.Marker, len(p.rtp.Payload))
				}
			}
			decode := g711.DecodeUlawFrame
			if codec == PCMA {
				decode = g711.DecodeAlawFrame
			}
			for d, key := range digits {
				lo, hi := dtmfFreqs(key)
				var tone, quiet []float64
				for k := range 10 {
					for _, b := range got[2+d*10+k].rtp.Payload {
						v := float64(decode(b)) / 32768
						if k < 5 {
							tone = append(tone, v)
						} else {
							quiet = append(quiet, v)
						}
					}
				}
				var sum float64
				for _, v := range tone {
					sum += v * v
				}
				// Two equal sines at L dBFS each sum to an RMS of L dBFS.
				if rms := 10 * math.Log10(sum/float64(len(tone))); math.Abs(rms-level) > 0.5 {
					t.Errorf("%c: tone RMS %.2f dBFS, want %.1f", key, rms, level)
				}
				for _, f := range allF {
					p := 10 * math.Log10(goertzel(tone, f))
					want := f == lo || f == hi
					if want && math.Abs(p-level) > 1 {
						t.Errorf("%c: %v Hz at %.1f dBFS, want %.1f", key, f, p, level)
					}
					if !want && p > level-25 {
						t.Errorf("%c: stray %v Hz at %.1f dBFS", key, f, p)
					}
				}
				// A-law has no code for 0; its silence decodes to ±8.
				for _, v := range quiet {
					if math.Abs(v) > 8.0/32768 {
						t.Fatalf("%c: gap is not digital silence", key)
					}
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for name, f := range map[string]func() error{
		"empty":        func() error { _, err := RFC4733Digits("", 101); return err },
		"bad key":      func() error { _, err := RFC4733Digits("12x", 101); return err },
		"pt range":     func() error { _, err := RFC4733Digits("1", 128); return err },
		"pt clash":     func() error { _, err := RFC4733Digits("1", 0, WithAudio(PCMU)); return err },
		"short tone":   func() error { _, err := RFC4733Digits("1", 101, WithTone(20*time.Millisecond)); return err },
		"long tone":    func() error { _, err := RFC4733Digits("1", 101, WithTone(9*time.Second)); return err },
		"short gap":    func() error { _, err := RFC4733Digits("1", 101, WithGap(20*time.Millisecond)); return err },
		"volume":       func() error { _, err := RFC4733Digits("1", 101, WithVolume(64)); return err },
		"inband key":   func() error { _, err := InbandDigits("1E", PCMU, -10); return err },
		"inband clip":  func() error { _, err := InbandDigits("1", PCMU, -6); return err },
		"inband codec": func() error { _, err := InbandDigits("1", Codec(9), -10); return err },
		"inband tone":  func() error { _, err := InbandDigits("1", PCMA, -10, WithTone(0)); return err },
		"ipv6": func() error {
			_, err := NewWriter(io.Discard, netip.MustParseAddrPort("[::1]:1"), testDst)
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: no error", name)
		}
	}
	w, err := NewWriter(io.Discard, testSrc, testDst)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteUDP(time.Second, nil); err != nil {
		t.Fatal(err)
	}
	if w.WriteUDP(0, nil) == nil {
		t.Error("a packet earlier than the previous one was accepted")
	}
	if _, err := NewReader(strings.NewReader(strings.Repeat("x", 24))); !errors.Is(err, ErrFormat) {
		t.Errorf("reader accepted garbage: %v", err)
	}
}

func TestDeterministic(t *testing.T) {
	a, _ := os.ReadFile(writeTemp(t, "a.pcap", must(InbandDigits("123", PCMU, -10))))
	b, _ := os.ReadFile(writeTemp(t, "b.pcap", must(InbandDigits("123", PCMU, -10))))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("same arguments gave different files")
	}
}

func must(p []Packet, err error) []Packet {
	if err != nil {
		panic(err)
	}
	return p
}

// The reader must take the pcaps SIPp itself ships (Ethernet, captured
// by a real phone), or it proves nothing about what SIPp accepts.
func TestReadSIPpShippedPcap(t *testing.T) {
	const path = "/usr/share/sip-tester/dtmf_2833_1.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s absent (Debian package sip-tester): %v", path, err)
	}
	got := readAll(t, path)
	for n, p := range got {
		if p.rtp.PayloadType != 101 || p.rtp.Payload[0] != 1 {
			t.Fatalf("record %d: pt %d payload %x", n, p.rtp.PayloadType, p.rtp.Payload)
		}
	}
	if len(got) != 10 {
		t.Errorf("%d records, want 10", len(got))
	}
}

func tshark(t *testing.T, path string, args ...string) [][]string {
	t.Helper()
	full := append([]string{"-r", path, "-d", "udp.port==6000,rtp",
		"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields"}, args...)
	cmd := exec.Command("tshark", full...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

func TestTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (Debian package tshark); an independent decoder's check skipped")
	}
	pkts := must(RFC4733Digits("90#", 110, WithAudio(PCMU)))
	path := writeTemp(t, "t.pcap", pkts)
	rows := tshark(t, path, "-o", "rtpevent.event_payload_type_value:110",
		"-e", "rtp.seq", "-e", "rtp.timestamp", "-e", "rtp.p_type",
		"-e", "rtpevent.event_id", "-e", "rtpevent.end_of_event",
		"-e", "ip.checksum.status", "-e", "udp.checksum.status")
	if len(rows) != len(pkts) {
		t.Fatalf("tshark saw %d packets, wrote %d", len(rows), len(pkts))
	}
	var ends []string
	for i, r := range rows {
		if len(r) != 7 {
			t.Fatalf("row %d: %q", i, r)
		}
		seq, _ := strconv.Atoi(r[0])
		ts, _ := strconv.ParseUint(r[1], 10, 32)
		h := pkts[i].Header
		if seq != int(h.SequenceNumber) || uint32(ts) != h.Timestamp || r[2] != strconv.Itoa(int(h.PayloadType)) {
			t.Errorf("row %d: tshark %q, wrote seq %d ts %d pt %d", i, r, h.SequenceNumber, h.Timestamp, h.PayloadType)
		}
		// 1 is "Good" in tshark's checksum status.
		if r[5] != "1" || r[6] != "1" {
			t.Errorf("row %d: IP/UDP checksum status %s/%s", i, r[5], r[6])
		}
		if r[4] == "1" {
			ends = append(ends, r[3])
		}
	}
	if got := strings.Join(ends, ","); got != "9,9,9,0,0,0,11,11,11" {
		t.Errorf("end packets decode as events %s", got)
	}
}

var dtmfLine = regexp.MustCompile(`(?m)^DTMF: (.)$`)

func TestMultimonDecodesInband(t *testing.T) {
	for _, tool := range []string{"sox", "multimon-ng"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian packages sox, multimon-ng); independent DTMF decode skipped", tool)
		}
	}
	const digits = "1234567890*#ABCD"
	for _, c := range []struct {
		codec Codec
		sox   string
		level float64
	}{{PCMU, "ul", -10}, {PCMA, "al", -10}, {PCMU, "ul", -25}} {
		t.Run(fmt.Sprintf("%v%.0f", c.codec, c.level), func(t *testing.T) {
			dir := t.TempDir()
			path := writeTemp(t, "in.pcap", must(InbandDigits(digits, c.codec, c.level)))
			var raw []byte
			for _, p := range readAll(t, path) {
				raw = append(raw, p.rtp.Payload...)
			}
			rawPath := filepath.Join(dir, "f."+c.sox)
			wavPath := filepath.Join(dir, "f.wav")
			if err := os.WriteFile(rawPath, raw, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command("sox", "-t", c.sox, "-r", "8000", "-c", "1", rawPath, "-t", "wav", wavPath).CombinedOutput(); err != nil {
				t.Fatalf("sox: %v\n%s", err, out)
			}
			out, err := exec.Command("multimon-ng", "-q", "-a", "DTMF", "-t", "wav", wavPath).CombinedOutput()
			if err != nil {
				t.Fatalf("multimon-ng: %v\n%s", err, out)
			}
			var got strings.Builder
			for _, m := range dtmfLine.FindAllStringSubmatch(string(out), -1) {
				got.WriteString(m[1])
			}
			if got.String() != digits {
				t.Errorf("multimon-ng decoded %q, want %q\n%s", got.String(), digits, out)
			}
		})
	}
}
