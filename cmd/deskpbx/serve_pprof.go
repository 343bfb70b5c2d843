package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"runtime/metrics"
)

// servePprof serves Go's profiles, and the live heap for benchmarks, on
// addr, its own listener and mux so that they never share the admin
// page. It must be a loopback address: profiles show memory contents.
func servePprof(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("pprof-addr: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("pprof-addr %q: must be a loopback address (127.0.0.1:PORT)", addr)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/heap-live", heapLive)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof-addr: %w", err)
	}
	go http.Serve(ln, mux)
	return ln, nil
}

// heapLive forces a garbage collection and prints the bytes of heap
// objects it found live, one number: what scripts/bench.sh divides by the
// registrations or calls held to get the memory each one costs.
func heapLive(w http.ResponseWriter, r *http.Request) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		http.Error(w, "runtime/metrics has no /gc/heap/live:bytes", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, s[0].Value.Uint64())
}
