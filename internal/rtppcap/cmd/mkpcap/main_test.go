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
