package media

import (
	"runtime"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// rtPriority is the SCHED_RR priority of the pacers' and pollers'
// threads; 0 leaves them to the normal scheduler.
var rtPriority atomic.Int32

// UseRealtime makes the pacers and pollers started from now on run each
// on a thread of its own under real-time scheduling (SCHED_RR) at prio,
// or under normal scheduling for 0.
//
// On a busy box the kernel otherwise keeps a woken pacer waiting behind
// other processes' threads (scripts/bench.sh media, 3,000 calls beside
// SIPp's hundred RTP threads: 16-18% of packets more than 5 ms late;
// 1.7% with this). Only these threads: the whole process at SCHED_RR
// sent none late at all, but it took every SIP message the moment it
// arrived, one wake-up each instead of a batch, and a registration storm
// cost three times the CPU (scripts/bench.sh reg: 140 against 45 µs per
// REGISTER). A pacer's or poller's thread is its own until the goroutine
// ends, and back under normal scheduling then, so no other goroutine
// ever runs at that priority.
//
// The policy is tried first on the caller's thread, so that a refusal
// (no CAP_SYS_NICE and RLIMIT_RTPRIO below prio; RT group scheduling
// without a budget) is the caller's error now, not every pacer's later.
func UseRealtime(prio int) error {
	if prio <= 0 {
		rtPriority.Store(0)
		return nil
	}
	if err := enterRealtime(prio); err != nil {
		return err
	}
	if err := leaveRealtime(); err != nil {
		return err
	}
	rtPriority.Store(int32(prio))
	return nil
}

func setThreadPolicy(policy, prio int) error {
	a := unix.SchedAttr{Policy: uint32(policy), Priority: uint32(prio)}
	return unix.SchedSetAttr(0, &a, 0)
}

// enterRealtime locks the calling goroutine to its thread and puts the
// thread under SCHED_RR at prio; refused, it leaves both as they were.
func enterRealtime(prio int) error {
	runtime.LockOSThread()
	if err := setThreadPolicy(unix.SCHED_RR, prio); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	return nil
}

// leaveRealtime puts the calling locked goroutine's thread back under
// normal scheduling and unlocks it, so that it can run any goroutine;
// if that fails the thread stays locked, and Go ends it with the
// goroutine.
func leaveRealtime() error {
	err := setThreadPolicy(unix.SCHED_NORMAL, 0)
	if err == nil {
		runtime.UnlockOSThread()
	}
	return err
}

// mediaThread is the first call of a pacer's or poller's goroutine, and
// what it returns the last: with UseRealtime on, the goroutine has its
// thread to itself at the real-time priority while it runs.
func mediaThread() (done func()) {
	prio := rtPriority.Load()
	if prio == 0 {
		return func() {}
	}
	// UseRealtime has seen the same call succeed in this process.
	if enterRealtime(int(prio)) != nil {
		return func() {}
	}
	return func() { _ = leaveRealtime() }
}
