package main

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// setRealtime puts every thread of the process under SCHED_RR at prio.
// Threads the Go runtime starts later are clones of these and inherit
// the policy, so only the threads that exist now need changing; the walk
// repeats until a pass finds none new, as the runtime may start one
// meanwhile. If a thread refuses (no CAP_SYS_NICE and RLIMIT_RTPRIO below
// prio, or a kernel with RT group scheduling and no budget for our
// group), those already changed go back to SCHED_OTHER: the process runs
// all at one policy or the other.
func setRealtime(prio int) error {
	rt := unix.SchedAttr{Policy: unix.SCHED_RR, Priority: uint32(prio)}
	changed := map[int]bool{}
	for {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		more := false
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || changed[tid] {
				continue
			}
			if err := unix.SchedSetAttr(tid, &rt, 0); err != nil {
				if errors.Is(err, unix.ESRCH) { // the thread has exited
					continue
				}
				normal := unix.SchedAttr{Policy: unix.SCHED_NORMAL}
				for tid := range changed {
					_ = unix.SchedSetAttr(tid, &normal, 0)
				}
				return err
			}
			changed[tid], more = true, true
		}
		if !more {
			return nil
		}
	}
}
