package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxPerPoll bounds the datagrams one session's socket gives a poll. A
// phone sends one or two a frame, but after a flood the socket buffer is
// full of junk (a few hundred small datagrams in Linux's default 208 KB),
// and until it is drained the phone's packets are dropped: one poll
// empties it. The bound keeps a flood from holding up the poller's other
// calls for more than about half a millisecond a frame.
const maxPerPoll = 256

// A poller reads the RTP of its calls, every 20 ms in its own 1 ms slot
// of the frame, with a non-blocking recvmmsg per socket, instead of a
// goroutine per call blocked in Go's network poller. Each packet used to
// wake its call's goroutine: at 2,000 calls that was 100,000 wake-ups a
// second, and the pacers waited in the scheduler's run queues behind
// those goroutines (BenchmarkPacingDuplex at 2,000 calls: 4.9-5.6% of
// frames late before, 1.4-2.1% after). A call's audio is handled at most
// one frame after it arrives, which digits, echo and recording do not
// notice; keys are written into a recording where they were pressed
// (Session.pressed), not when the recorder's goroutine sees them.
//
// A flood (more datagrams than a poll takes) moves the call to a goroutine
// of its own until it ends, as a poll every 20 ms would leave the phone's
// packets no room in the socket buffer (readFlood). Pollers, like pacers,
// run only while they have calls, so an idle PBX has no goroutine or
// timer running.
type poller struct {
	mu       sync.Mutex
	slot     int64 // which 1 ms slot of the 20 ms frame it wakes in
	sessions []*Session
	n        atomic.Int32 // len(sessions), for pollerFor without the lock
	running  bool

	batch readBatch // used by run only, with mu held
}

var pollers = func() (p [slotsPerFrame]poller) {
	for i := range p {
		p[i].slot = int64(i)
	}
	return
}()

// pollerFor is the poller with the fewest calls, so that every slot
// carries about the same share.
func pollerFor() *poller {
	best := &pollers[0]
	for i := range pollers {
		if p := &pollers[i]; p.n.Load() < best.n.Load() {
			best = p
		}
	}
	return best
}

// add makes p read s's socket from its next slot on.
func (p *poller) add(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sessions = append(p.sessions, s)
	p.n.Store(int32(len(p.sessions)))
	s.poller = p
	if !p.running {
		p.running = true
		go p.run()
	}
}

// remove stops p reading s; once it returns, p does not touch s again.
func (p *poller) remove(s *Session) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, o := range p.sessions {
		if o == s {
			last := len(p.sessions) - 1
			p.sessions[i] = p.sessions[last]
			p.sessions[last] = nil
			p.sessions = p.sessions[:last]
			p.n.Store(int32(last))
			return
		}
	}
}

// next is the start of p's slot in the first frame after now.
func (p *poller) next(now time.Time) time.Time {
	since := now.Sub(epoch)
	at := since - since%frameInterval + time.Duration(p.slot)*slotWidth
	if at <= since {
		at += frameInterval
	}
	return epoch.Add(at)
}

func (p *poller) run() {
	defer mediaThread()()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if wait := time.Until(p.next(time.Now())); wait > 0 {
			timer.Reset(wait)
			<-timer.C
		}
		p.mu.Lock()
		if len(p.sessions) == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		now := time.Now()
		var flooded []*Session
		kept := p.sessions[:0]
		for _, s := range p.sessions {
			if s.poll(&p.batch, now) {
				flooded = append(flooded, s)
			} else {
				kept = append(kept, s)
			}
		}
		clear(p.sessions[len(kept):])
		p.sessions = kept
		p.n.Store(int32(len(kept)))
		p.mu.Unlock()
		for _, s := range flooded {
			s.readFlood()
		}
	}
}

// poll hands what arrived on s's socket to receive, and reports a flood:
// more than a poll takes. The caller holds the poller's lock, which is
// what makes receive single-threaded per session.
func (s *Session) poll(b *readBatch, now time.Time) (flooded bool) {
	s.pollNow = now
	for range maxPerPoll / batchSize {
		if s.sock.readBatch(b, s.onDatagram) < batchSize {
			return false
		}
	}
	return true
}

// floodWindow and floodEnds: a flooded session has a goroutine of its own
// reading as fast as the flood comes, so that the phone's packets among
// it still find room in the socket buffer, until a window of floodWindow
// brings fewer than floodEnds datagrams (a phone sends 5).
const (
	floodWindow = 100 * time.Millisecond
	floodEnds   = 20
)

// readFlood gives s, just taken off its poller, a reading goroutine of its
// own until the flood ends; then a poller reads it again.
func (s *Session) readFlood() {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if s.closing.Load() {
		return
	}
	s.log.Warn("rtp flood: the call's port gets a reader of its own", "port", s.Port())
	s.poller = nil
	s.flood.Add(1)
	go func() {
		defer s.flood.Done()
		s.readWhileFlooded()
		s.rxMu.Lock()
		defer s.rxMu.Unlock()
		if !s.closing.Load() {
			pollerFor().add(s)
		}
	}()
}

// readWhileFlooded reads s's socket as datagrams come until a window is
// quiet or the session closes (Close waits for it: a window at most).
func (s *Session) readWhileFlooded() {
	b := new(readBatch)
	for {
		end := time.Now().Add(floodWindow)
		n := 0
		for left := floodWindow; left > 0; left = time.Until(end) {
			if s.closing.Load() {
				return
			}
			if !s.sock.wait(left) {
				continue
			}
			s.pollNow = time.Now()
			n += s.sock.readBatch(b, s.onDatagram)
		}
		if n < floodEnds {
			return
		}
	}
}
