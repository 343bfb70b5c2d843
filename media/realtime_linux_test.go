package media

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// realtimeThreads counts the process's threads under SCHED_RR at prio,
// from /proc/self/task/*/stat (fields 40 and 41).
func realtimeThreads(t *testing.T, prio int) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/stat")
		if err != nil {
			continue // exited
		}
		// The fields after the command name, which may hold spaces,
		// start at field 3.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if f[41-3] == strconv.Itoa(unix.SCHED_RR) && f[40-3] == strconv.Itoa(prio) {
			n++
		}
	}
	return n
}

// mediaIdle: no pacer or poller is running, so the next call starts
// its own.
func mediaIdle() bool {
	for i := range pollers {
		pollers[i].mu.Lock()
		running := pollers[i].running
		pollers[i].mu.Unlock()
		pacers[i].mu.Lock()
		running = running || pacers[i].running
		pacers[i].mu.Unlock()
		if running {
			return false
		}
	}
	return true
}

// Not parallel: the priority is the package's, and the count of
// real-time threads the process's.
func TestPacersAndPollersRunAtTheRealtimePriority(t *testing.T) {
	const prio = 7
	if err := UseRealtime(prio); err != nil {
		if errors.Is(err, unix.EPERM) {
			t.Skip("real-time scheduling needs CAP_SYS_NICE or RLIMIT_RTPRIO here")
		}
		t.Fatal(err)
	}
	defer UseRealtime(0)
	// Pacers and pollers take the priority as they start: none of an
	// earlier test may be left to take this call.
	waitFor(t, "earlier calls' pacers and pollers to stop", mediaIdle)
	if n := realtimeThreads(t, prio); n != 0 {
		t.Fatalf("%d threads at the priority before any call: UseRealtime's trial left its thread real-time", n)
	}

	s := newTestSession(t, Config{})
	ph := newPhone(t, s.LocalAddr())
	connect(s, ph, PCMU, 101)
	played := make(chan error, 1)
	go func() { played <- s.Play(ctxFor(t), prompt(8000*2)) }()
	// Play sends the first frame itself; the pacer sends the rest.
	for range 3 {
		if _, _, err := ph.read(5e9); err != nil {
			t.Fatal(err)
		}
	}
	// The call's pacer and its poller, each on a thread of its own.
	if n := realtimeThreads(t, prio); n < 2 {
		t.Errorf("%d threads at SCHED_RR %d while a prompt plays, want the pacer's and the poller's", n, prio)
	}
	ph.sendEvent(101, '5', 60)
	if d, err := s.NextDigit(ctxFor(t)); err != nil || d.Key != '5' {
		t.Fatalf("a key read by a real-time poller: %q %v", d.Key, err)
	}
	s.Close()
	<-played
	// Pacers and pollers end with their last call, and leave their
	// threads under normal scheduling.
	waitFor(t, "the real-time threads to leave the priority", func() bool { return realtimeThreads(t, prio) == 0 })

	UseRealtime(0)
	s2 := newTestSession(t, Config{})
	connect(s2, ph, PCMU, 101)
	go func() { played <- s2.Play(ctxFor(t), prompt(8000)) }()
	if _, _, err := ph.read(5e9); err != nil {
		t.Fatal(err)
	}
	if n := realtimeThreads(t, prio); n != 0 {
		t.Errorf("%d threads at SCHED_RR after UseRealtime(0)", n)
	}
	s2.Close()
	<-played
}

func TestRealtimeRefusedLeavesNormalScheduling(t *testing.T) {
	if err := UseRealtime(100); err == nil {
		UseRealtime(0)
		t.Fatal("priority 100 accepted")
	}
	if p := rtPriority.Load(); p != 0 {
		t.Fatalf("after a refusal the priority is %d, want 0", p)
	}
}
