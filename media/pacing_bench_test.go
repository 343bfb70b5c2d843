package media

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkPacing plays a 2 s prompt on 1,000, 2,000 and 4,000 sessions at
// once, each on its own port, as an IVR under full load: the pacing and
// sending of prompts alone, without SIP or a load generator, so that a
// regression shows without SIPp. Calls start at scattered instants, as
// real ones do. It reports:
//   - %late>5ms: the share of frames sent more than 5 ms after their slot
//     (Stats.Late), the goal being under 1%;
//   - %cpu: the process's CPU over the run (two cores fully busy = 200%);
//   - cpu-µs/frame: that CPU per frame sent, i.e. per call per 20 ms;
//   - heap-B/session and stack-B/session: live heap and goroutine stacks
//     per open session, after a forced GC, from runtime/metrics;
//   - %runq-wait: how long the process's threads waited for a CPU while
//     runnable, as a share of the run (the kernel's schedstat): high
//     when the box, not our pacing, made frames late;
//   - %cpu-phones (duplex only): the far ends' CPU, in their own process.
func BenchmarkPacing(b *testing.B) {
	for _, n := range []int{1000, 2000, 4000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchPacing(b, n, false) })
	}
}

// BenchmarkPacingDuplex is BenchmarkPacing while every session also
// receives a PCMU frame every 20 ms, as a call does from its phone: the
// receive path competes with the pacers for the cores, which is what a
// real load looks like (scripts/bench.sh media).
func BenchmarkPacingDuplex(b *testing.B) {
	for _, n := range []int{1000, 2000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchPacing(b, n, true) })
	}
}

func benchPacing(b *testing.B, calls int, duplex bool) {
	// 5,000 even ports: room for 4,000 sessions while other processes
	// hold some of them.
	ports, err := NewPortAllocator(50000, 59999)
	if err != nil {
		b.Fatal(err)
	}
	// The far end is a socket nobody reads: once its buffer is full the
	// kernel drops what arrives, so the figures are the sending alone,
	// not a reader competing for the same two cores.
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()

	heap0, stack0 := liveMemory()
	sessions := make([]*Session, calls)
	for i := range sessions {
		s, err := NewSession(context.Background(), ports, loopback, Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		s.SetRemote(Negotiated{Codec: PCMU, Remote: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Direction: SendRecv})
		sessions[i] = s
	}
	heap1, stack1 := liveMemory()

	ulaw := prompt(2 * 8000)
	var phonesCPU func() time.Duration
	if duplex {
		phonesCPU = startPhoneLoad(b, sessions)
	}
	wait0 := runQueueWait()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for i, s := range sessions {
			// Starting every call in the same microsecond would line up
			// all their slots; spread them over the 20 ms frame.
			offset := time.Duration(i%20)*time.Millisecond + time.Duration(i/20)*20*time.Millisecond/time.Duration(calls/20+1)
			wg.Go(func() {
				time.Sleep(offset)
				s.Play(context.Background(), ulaw)
			})
		}
		wg.Wait()
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	b.ReportMetric(100*(runQueueWait()-wait0).Seconds()/b.Elapsed().Seconds(), "%runq-wait")
	if phonesCPU != nil {
		b.ReportMetric(100*phonesCPU().Seconds()/b.Elapsed().Seconds(), "%cpu-phones")
	}
	var sent, late uint64
	for _, s := range sessions {
		st := s.Stats()
		sent += st.Sent
		late += st.Late
	}
	b.ReportMetric(100*float64(late)/float64(sent), "%late>5ms")
	b.ReportMetric(100*cpu.Seconds()/b.Elapsed().Seconds(), "%cpu")
	b.ReportMetric(float64(cpu.Microseconds())/float64(sent), "cpu-µs/frame")
	b.ReportMetric(float64(heap1-heap0)/float64(calls), "heap-B/session")
	b.ReportMetric(float64(stack1-stack0)/float64(calls), "stack-B/session")
	b.ReportMetric(0, "ns/op") // one op is 2 s of wall clock: meaningless
}

// startPhoneLoad runs the far ends of sessions in a child process, as
// scripts/bench.sh media runs SIPp: the phones' sending costs CPU, but not
// inside our scheduler. It sends each session a PCMU frame every 20 ms
// until the returned stop is called, which reports the CPU they used.
func startPhoneLoad(b *testing.B, sessions []*Session) (stop func() time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), phoneLoadEnv+"=1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	for _, s := range sessions {
		fmt.Fprintln(in, s.LocalAddr())
	}
	fmt.Fprintln(in)
	return func() time.Duration {
		in.Close()
		cmd.Wait()
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
}

const phoneLoadEnv = "DESKPBX_MEDIA_PHONE_LOAD"

// phoneLoadMain is the child of startPhoneLoad: it reads addresses until
// an empty line, then sends until its standard input closes, at most a
// minute, at nice 19 as the bench script's SIPp.
func phoneLoadMain() {
	// The phones are the load, not the system under test: never at a
	// real-time policy the benchmark may have been started with.
	unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: 0 /* SCHED_OTHER */}, 0)
	syscall.Setpriority(syscall.PRIO_PROCESS, 0, 19)
	var dsts []netip.AddrPort
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() && sc.Text() != "" {
		if ap, err := netip.ParseAddrPort(sc.Text()); err == nil {
			dsts = append(dsts, ap)
		}
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pkt := make([]byte, 12+SamplesPerFrame)
	pkt[0] = 0x80 // version 2, PT 0 (PCMU)
	for i := 12; i < len(pkt); i++ {
		pkt[i] = 0xff
	}
	tick := time.NewTicker(frameInterval)
	deadline := time.After(time.Minute)
	for seq := uint16(0); ; seq++ {
		select {
		case <-done:
			os.Exit(0)
		case <-deadline:
			os.Exit(0)
		case <-tick.C:
		}
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		ts := uint32(seq) * SamplesPerFrame
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		for _, d := range dsts {
			conn.WriteToUDPAddrPort(pkt, d)
		}
	}
}

// liveMemory is the live heap and the goroutine stacks after a forced GC.
func liveMemory() (heap, stacks int64) {
	runtime.GC()
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(m)
	return int64(m[0].Value.Uint64()), int64(m[1].Value.Uint64())
}

// runQueueWait is how long the process's threads have waited, runnable,
// for a CPU (the kernel's schedstat): the box's share of any lateness.
func runQueueWait() time.Duration {
	var total time.Duration
	tasks, _ := filepath.Glob("/proc/self/task/*/schedstat")
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var run, wait int64
		if _, err := fmt.Sscan(string(b), &run, &wait); err == nil {
			total += time.Duration(wait)
		}
	}
	return total
}

// processCPU is the CPU (user and system) the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
