package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// threadPolicies is each thread's scheduling policy and real-time
// priority, from /proc/self/task/*/stat (fields 41 and 40).
func threadPolicies() (map[int][2]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	out := map[int][2]int{}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/stat")
		if err != nil {
			continue // exited
		}
		// Fields after the command name, which may hold spaces: the
		// first of them is field 3.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		prio, _ := strconv.Atoi(f[40-3])
		policy, _ := strconv.Atoi(f[41-3])
		tid, _ := strconv.Atoi(e.Name())
		out[tid] = [2]int{policy, prio}
	}
	return out, nil
}

// TestRealtimeChild runs in a process of its own (started by
// TestRealtimeSchedulingCoversEveryThread): real-time scheduling is not
// for the test binary that runs everything else.
func TestRealtimeChild(t *testing.T) {
	if os.Getenv("DESKPBX_TEST_RT_CHILD") != "1" {
		t.Skip("run by TestRealtimeSchedulingCoversEveryThread")
	}
	report := func(stage string) {
		p, err := threadPolicies()
		if err != nil {
			t.Fatal(err)
		}
		for tid, pp := range p {
			fmt.Printf("%s %d %d %d\n", stage, tid, pp[0], pp[1])
		}
	}
	// A priority the kernel refuses leaves every thread as it was.
	if err := setRealtime(100); err == nil {
		t.Fatal("priority 100 accepted")
	}
	report("refused")
	if err := setRealtime(10); err != nil {
		if errors.Is(err, unix.EPERM) {
			fmt.Println("EPERM")
			return
		}
		t.Fatal(err)
	}
	// Threads started afterwards: each locked goroutine blocked in a
	// system call holds an OS thread of its own, so the runtime clones
	// new ones.
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	before, _ := threadPolicies()
	started := make(chan struct{})
	for range 6 {
		go func() {
			runtime.LockOSThread()
			started <- struct{}{}
			var b [1]byte
			_, _ = unix.Read(fds[0], b[:])
		}()
	}
	for range 6 {
		<-started
	}
	after, _ := threadPolicies()
	fmt.Printf("threads %d %d\n", len(before), len(after))
	report("after")
	unix.Close(fds[1])
}

func TestRealtimeSchedulingCoversEveryThread(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestRealtimeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DESKPBX_TEST_RT_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var refused, after int
	var threads [2]int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "refused":
			refused++
			if f[2] != "0" || f[3] != "0" {
				t.Errorf("thread %s after a refused priority: policy %s priority %s, want SCHED_OTHER", f[1], f[2], f[3])
			}
		case len(f) == 4 && f[0] == "after":
			after++
			if f[2] != strconv.Itoa(unix.SCHED_RR) || f[3] != "10" {
				t.Errorf("thread %s: policy %s priority %s, want SCHED_RR (%d) at 10", f[1], f[2], f[3], unix.SCHED_RR)
			}
		case len(f) == 3 && f[0] == "threads":
			threads[0], _ = strconv.Atoi(f[1])
			threads[1], _ = strconv.Atoi(f[2])
		}
	}
	if strings.Contains(string(out), "EPERM") {
		t.Skip("real-time scheduling needs CAP_SYS_NICE or RLIMIT_RTPRIO here")
	}
	if refused == 0 || after == 0 {
		t.Fatalf("child reported no threads:\n%s", out)
	}
	if threads[1] <= threads[0] {
		t.Errorf("threads before and after starting locked goroutines: %v; the test proves nothing of threads started later", threads)
	}
}

func TestRealtimePriorityFlag(t *testing.T) {
	cfg, err := parseServeFlags(nil)
	if err != nil || cfg.rtPriority != 0 {
		t.Fatalf("default: %v, %v; want 0 (normal scheduling)", cfg, err)
	}
	t.Setenv("DESKPBX_RT_PRIORITY", "10")
	if cfg, err = parseServeFlags(nil); err != nil || cfg.rtPriority != 10 {
		t.Fatalf("DESKPBX_RT_PRIORITY=10: %v, %v", cfg, err)
	}
	for _, bad := range []string{"-1", "100"} {
		if _, err := parseServeFlags([]string{"-rt-priority", bad}); err == nil || !strings.Contains(err.Error(), "rt-priority") {
			t.Errorf("-rt-priority %s: %v, want a usage error", bad, err)
		}
	}
	t.Setenv("DESKPBX_RT_PRIORITY", "high")
	if _, err := parseServeFlags(nil); err == nil || !strings.Contains(err.Error(), "DESKPBX_RT_PRIORITY") {
		t.Errorf("DESKPBX_RT_PRIORITY=high: %v", err)
	}
}
