package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

func TestHeapLiveReportsTheLiveHeapAfterACollection(t *testing.T) {
	ln, err := servePprof("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	res, err := http.Get("http://" + ln.Addr().String() + "/debug/heap-live")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	n, err := strconv.ParseUint(strings.TrimSpace(string(body)), 10, 64)
	if res.StatusCode != 200 || err != nil || n == 0 {
		t.Fatalf("heap-live: %d %q", res.StatusCode, body)
	}
	// Whatever this test holds is live: at least the body just read.
	if n < uint64(len(body)) {
		t.Fatalf("live heap %d bytes", n)
	}
}

func TestProfilesAreServedOnlyOnLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0"} {
		if ln, err := servePprof(addr); err == nil {
			ln.Close()
			t.Errorf("pprof-addr %s was accepted", addr)
		}
	}
}
