package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"deskpbx/internal/rtppcap"
)

func count(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := rtppcap.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, err := r.Next(); err == io.EOF {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"-digits", "1234#"}, 5 * 7},
		{[]string{"-mode", "rfc4733", "-digits", "12", "-pt", "96", "-audio", "-codec", "pcma"}, 2 * 10},
		{[]string{"-mode", "inband", "-digits", "1234#", "-codec", "pcma", "-level", "-20"}, 5 * 10},
		{[]string{"-mode", "inband", "-digits", "9", "-tone", "60ms", "-gap", "40ms", "-lead", "20ms"}, 1 + 3 + 2},
	} {
		out := filepath.Join(dir, "x.pcap")
		if err := run(append(c.args, "-o", out)); err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if n := count(t, out); n != c.want {
			t.Errorf("%q: %d packets, want %d", c.args, n, c.want)
		}
	}
	for _, bad := range [][]string{
		{"-digits", "1"},
		{"-o", filepath.Join(dir, "y.pcap")},
		{"-digits", "1", "-o", filepath.Join(dir, "y.pcap"), "-mode", "info"},
		{"-digits", "1", "-o", filepath.Join(dir, "y.pcap"), "-codec", "g729"},
		{"-digits", "1", "-o", filepath.Join(dir, "y.pcap"), "-pt", "200"},
		{"-digits", "1", "-o", filepath.Join(dir, "y.pcap"), "-src", "[::1]:5"},
		{"-digits", "1", "-o", filepath.Join(dir, "y.pcap"), "extra"},
	} {
		if run(bad) == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
func TestRawWritesTheTonesAudioAloneWithItsTail(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keys.ul")
	// 2 digits of 100 ms, each followed by 100 ms of gap, after 40 ms of
	// lead, then 500 ms of tail: 0.94 s of 8 kHz samples.
	if err := run([]string{"-mode", "inband", "-raw", "-lead", "40ms", "-digits", "12", "-tail", "500ms", "-o", out}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 7520 {
		t.Fatalf("%d bytes, want 7520", len(b))
	}
	// µ-law silence is 0xff: the lead and the tail are silent, the first
	// digit's frames are not.
	for i, v := range b[:320] {
		if v != 0xff {
			t.Fatalf("lead byte %d is %#x", i, v)
		}
	}
	for i, v := range b[len(b)-4000:] {
		if v != 0xff {
			t.Fatalf("tail byte %d is %#x", i, v)
		}
	}
	loud := 0
	for _, v := range b[320:1120] {
		if v != 0xff {
			loud++
		}
	}
	if loud < 700 {
		t.Fatalf("first digit: %d of 800 samples not silent", loud)
	}
}

func TestRawRefusesTelephoneEvents(t *testing.T) {
	out := filepath.Join(t.TempDir(), "keys.ul")
	if err := run([]string{"-mode", "rfc4733", "-raw", "-digits", "1", "-o", out}); err == nil {
		t.Fatal("rfc4733 -raw accepted: rtp_stream cannot send events")
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("a file was written")
	}
}
