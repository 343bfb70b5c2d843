package media

import (
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An rxLoop reads the RTP of many calls from one goroutine waiting on an
// epoll descriptor, instead of a goroutine per call (or per relayed
// direction) blocked in a read.
//
// With a goroutine per call, 2,000 calls meant 100,000 goroutine wake-ups
// a second, and the Go scheduler has no priorities: a pacer whose timer
// fired waited in the run queues behind hundreds of readers, and prompts
// fell late (BenchmarkPacingDuplex: 14% of frames more than 5 ms late at
// 1,000 calls while the cores were not busy). One epoll_wait returns every
// socket that is ready, and the loop reads them all back to back, so the
// pacers compete with one goroutine per core instead.
//
// A loop runs only while it has targets, as a pacer does.
type rxLoop struct {
	mu      sync.Mutex
	epfd    int // created with the loop's first target, kept after
	poll    syscall.RawConn
	wake    int                // eventfd: tells an idle loop to stop
	targets map[int32]rxTarget // by the id in their epoll event
	nextID  int32
	running bool
}

// An rxTarget is what a loop reads for: a Session, a relayed call. drain
// reads what its socket holds (without waiting: the socket is
// non-blocking), and must do nothing once the target has closed it; the
// loop may call it once more after remove returns.
type rxTarget interface {
	drain(buf []byte)
}

// wakeID is the epoll data of the loop's eventfd; targets take ids from 1.
const wakeID = 0

var rxLoops = make([]rxLoop, max(1, runtime.GOMAXPROCS(0)))

// rxBurst bounds the datagrams read from one socket per turn: a port
// flooded with junk is served at the same pace as the others, its excess
// dropped by the kernel, and cannot starve the calls of its loop.
const rxBurst = 16

// rxYieldEvery is how many sockets the loop reads before it lets other
// goroutines run: about 0.2 ms of work, well under the 5 ms a prompt
// frame may be late.
const rxYieldEvery = 32

var rxNext struct {
	sync.Mutex
	n int
}

// rxWatch is a target's place in a loop, for unwatch.
type rxWatch struct {
	loop *rxLoop
	id   int32
	fd   int
}

// watch adds t, reading fd, to a loop, spreading them over the loops in
// turn.
func watch(fd int, t rxTarget) (rxWatch, error) {
	rxNext.Lock()
	l := &rxLoops[rxNext.n%len(rxLoops)]
	rxNext.n++
	rxNext.Unlock()
	return l.add(fd, t)
}

func (l *rxLoop) add(fd int, t rxTarget) (rxWatch, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.targets == nil {
		if err := l.open(); err != nil {
			return rxWatch{}, err
		}
	}
	for {
		l.nextID++
		if l.nextID <= wakeID {
			l.nextID = wakeID + 1
		}
		if l.targets[l.nextID] == nil {
			break
		}
	}
	id := l.nextID
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	ev.Fd = id
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return rxWatch{}, err
	}
	l.targets[id] = t
	if !l.running {
		l.running = true
		go l.run()
	}
	return rxWatch{l, id, fd}, nil
}

func (l *rxLoop) open() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	ev.Fd = wakeID
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return err
	}
	// The loop waits for the epoll descriptor in Go's own poller, as for
	// a socket: blocked in epoll_wait itself, it would hold its P in a
	// system call for up to 10 ms at a time (until sysmon takes it
	// back), and the pacers' timers on that P would fire that late.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return err
	}
	poll, err := os.NewFile(uintptr(epfd), "rtp-epoll").SyscallConn()
	if err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return err
	}
	l.epfd, l.wake, l.poll, l.targets = epfd, wake, poll, make(map[int32]rxTarget)
	return nil
}

// unwatch takes a target off its loop. Once it returns, the loop has no
// event of it left to act on except one it already looked up: see
// rxTarget. It is a no-op on a zero rxWatch.
func (w rxWatch) unwatch() {
	l := w.loop
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.targets[w.id]; !ok {
		return
	}
	delete(l.targets, w.id)
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
	if len(l.targets) == 0 {
		var one = [8]byte{1}
		unix.Write(l.wake, one[:])
	}
}

func (l *rxLoop) run() {
	events := make([]unix.EpollEvent, 256)
	ready := make([]rxTarget, 0, len(events))
	buf := make([]byte, 2048)
	// Made once: a closure made per wait would be an allocation per wait.
	var n int
	poll := func(fd uintptr) bool {
		r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, fd, uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
		n = int(r)
		return errno == 0 && n > 0
	}
	for {
		if err := l.poll.Read(poll); err != nil {
			// Only a closed epoll fd fails here, which cannot happen;
			// pausing keeps it from spinning a core if it ever does.
			time.Sleep(time.Millisecond)
			continue
		}
		ready = ready[:0]
		l.mu.Lock()
		for _, ev := range events[:n] {
			if ev.Fd == wakeID {
				var b [8]byte
				unix.Read(l.wake, b[:])
				continue
			}
			if t := l.targets[ev.Fd]; t != nil {
				ready = append(ready, t)
			}
		}
		if len(l.targets) == 0 {
			l.running = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		for i, t := range ready {
			if i > 0 && i%rxYieldEvery == 0 {
				// A pacer whose slot came meanwhile waits for this goroutine
				// to let go of the P: let it run now, not after the batch.
				runtime.Gosched()
			}
			t.drain(buf)
		}
		clear(ready) // let closed targets be collected
	}
}

// drain reads what s's socket holds, up to rxBurst datagrams. s.rxMu
// and s.rxClosed (see Session.Close) keep it from reading a socket that
// was closed and whose descriptor may be another's by now.
func (s *Session) drain(buf []byte) {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if s.rxClosed {
		return
	}
	for range rxBurst {
		n, src, err := s.sock.recv(buf)
		if err != nil {
			// errWouldBlock: all read. Anything else on an unconnected UDP
			// socket is an ICMP report about an earlier send: nothing to
			// do, and level-triggered epoll will say if data remains.
			return
		}
		s.receive(buf[:n], src, time.Now())
	}
}
