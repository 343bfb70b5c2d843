package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/rtp"

	"deskpbx/internal/rtppcap"
)

// A listener's call: silence, a PIN as RFC 4733, silence, audio from a
// file, a key. The stream must be one: every packet in its own 20 ms
// slot, sequence numbers consecutive, audio timestamps on the slot
// clock; the keys as events in order; the file's bytes as the audio
// payload, its last packet padded with silence.
func TestSegmentsMakeOneStream(t *testing.T) {
	dir := t.TempDir()
	speech := bytes.Repeat([]byte{0x10, 0x20, 0x30}, 110) // 330 bytes: 3 packets, the last padded
	if err := os.WriteFile(filepath.Join(dir, "s.ul"), speech, 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.pcap")
	if err := run([]string{"-o", out, "silence=100ms", "keys=48#", "silence=40ms", "audio=" + filepath.Join(dir, "s.ul"), "keys=1"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := rtppcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var pkts []rtp.Packet
	var times []time.Time
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var p rtp.Packet
		if err := p.Unmarshal(rec.Payload); err != nil {
			t.Fatal(err)
		}
		pkts, times = append(pkts, p), append(times, rec.Time)
	}
	var keys []byte
	var audio []byte
	for i, p := range pkts {
		slot := times[i].Sub(times[0]) / rtppcap.Ptime
		if times[i].Sub(times[0]) != slot*rtppcap.Ptime || i > 0 && slot != times[i-1].Sub(times[0])/rtppcap.Ptime+1 {
			t.Fatalf("packet %d at %v: not the slot after the previous one", i, times[i].Sub(times[0]))
		}
		if p.SequenceNumber != pkts[0].SequenceNumber+uint16(i) {
			t.Fatalf("packet %d: sequence %d, want %d", i, p.SequenceNumber, pkts[0].SequenceNumber+uint16(i))
		}
		switch p.PayloadType {
		case 0:
			if p.Timestamp != pkts[0].Timestamp+uint32(slot)*frame {
				t.Fatalf("audio packet %d: timestamp %d, off its slot %d", i, p.Timestamp, slot)
			}
			if p.Payload[0] != 0xff {
				audio = append(audio, p.Payload...)
			}
		case 101:
			if p.Marker {
				keys = append(keys, "0123456789*#"[p.Payload[0]])
			}
		default:
			t.Fatalf("packet %d: payload type %d", i, p.PayloadType)
		}
	}
	if string(keys) != "48#1" {
		t.Errorf("keys %q, want 48#1", keys)
	}
	want := append(append([]byte(nil), speech...), bytes.Repeat([]byte{0xff}, 3*frame-len(speech))...)
	if !bytes.Equal(audio, want) {
		t.Errorf("audio payload: %d bytes, want the file's %d padded to %d", len(audio), len(speech), len(want))
	}
}

func TestBadSegment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.pcap")
	for _, args := range [][]string{{"-o", out}, {"-o", out, "noise=1s"}, {"-o", out, "silence=x"}, {"-o", out, "keys=Z"}} {
		if err := run(args); err == nil {
			t.Errorf("talkpcap %q: no error", args)
		}
	}
}
