package media

import (
	"sync"
	"time"
)

// slotWidth is the resolution of the pacers' schedule: a prompt is sent a
// frame each time the 1 ms slot of the 20 ms frame it started in comes
// round. Sending every call at one shared instant would make the last of
// a thousand back-to-back sends a few milliseconds late; twenty slots
// spread them.
const slotWidth = time.Millisecond

const slotsPerFrame = int64(frameInterval / slotWidth)

// A pacer sends the prompt frames of the calls of its slot from one
// goroutine, instead of a goroutine and timer per call waking 50 times a
// second each: at 2,000 calls that was 100,000 timer wake-ups and
// goroutine switches a second, and frames fell late while the cores were
// not even busy. A pacer wakes once per 20 ms and sends every frame due
// back to back.
//
// sendmmsg would batch these sends into one system call, but it sends
// through one socket, and each call has its own (a random port per call,
// see PortAllocator): batching across calls would mean one shared port,
// so one send per frame remains (BenchmarkSendSyscall: batching would
// save about a quarter of it). A pacer only runs while a prompt plays, so
// an idle PBX has no goroutine or timer running.
type pacer struct {
	mu      sync.Mutex
	base    time.Time // when tick 0 was; ticks are slotWidth apart
	last    int64     // the last tick whose slot has been served
	buckets [slotsPerFrame][]pacedEntry
	n       int // entries in buckets
	running bool

	// Used by the run goroutine only, with mu held.
	ulaw, frame [SamplesPerFrame]byte
}

// pacedEntry is a session playing in a slot. gen tells a finished or
// cancelled playout from a newer one of the same session: the entry of
// the older one is dropped when its slot comes.
type pacedEntry struct {
	s   *Session
	gen uint64
}

// pacers has a pacer per slot of the frame: a prompt is paced by the one
// of the slot it started in. One pacer per core would put every call of a
// core in one goroutine: when the operating system preempts that thread
// (a busy box), all of them fall late together, as the Go scheduler cannot
// move a running goroutine. Twenty pacers are twenty small units of work a
// 20 ms frame, which the other core takes over when one stalls; still a
// thousand wake-ups a second at most, whatever the number of calls.
var pacers [slotsPerFrame]pacer

// epoch numbers the slots the same way for every pacer.
var epoch = time.Now()

// pacerAt is the pacer of the slot t falls in.
func pacerAt(t time.Time) *pacer {
	return &pacers[int64(t.Sub(epoch)/slotWidth)%slotsPerFrame]
}

func (p *pacer) tickOf(t time.Time) int64    { return int64(t.Sub(p.base) / slotWidth) }
func (p *pacer) timeOf(tick int64) time.Time { return p.base.Add(time.Duration(tick) * slotWidth) }

// add schedules s's current playout (generation gen), whose first frame
// went out at now: the next is due one frame later, at the start of the
// slot after now, so that frames are never closer than 20 ms (a phone's
// jitter buffer takes a late frame better than an early one). The caller
// must not hold s.out.mu (the pacer takes it under p.mu).
func (p *pacer) add(s *Session, gen uint64, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		p.running, p.base, p.last = true, now, 0
		go p.run()
	}
	tick := p.tickOf(now) + 1 + slotsPerFrame
	s.out.mu.Lock()
	s.out.pacer, s.out.tick = p, tick
	s.out.mu.Unlock()
	b := &p.buckets[tick%slotsPerFrame]
	*b = append(*b, pacedEntry{s, gen})
	p.n++
}

// run serves slots until no session plays.
func (p *pacer) run() {
	defer mediaThread()()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		if p.n == 0 {
			p.running = false
			p.mu.Unlock()
			return
		}
		next := p.last + 1
		for next < p.last+slotsPerFrame && len(p.buckets[next%slotsPerFrame]) == 0 {
			next++
		}
		due := p.timeOf(next)
		p.mu.Unlock()

		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			<-timer.C
		}

		p.mu.Lock()
		now := time.Now()
		cur := p.tickOf(now)
		from := max(p.last+1, cur-slotsPerFrame+1) // a late wake serves each slot once
		for t := from; t <= cur; t++ {
			p.serve(&p.buckets[t%slotsPerFrame], cur, now)
		}
		p.last = cur
		p.mu.Unlock()
	}
}

// serve sends the due frames of a slot's sessions and drops the entries
// whose playout has ended. p.mu is held.
func (p *pacer) serve(b *[]pacedEntry, cur int64, now time.Time) {
	kept := (*b)[:0]
	for _, e := range *b {
		if e.s.paceFrames(p, e.gen, cur, now) {
			kept = append(kept, e)
		}
	}
	clear((*b)[len(kept):]) // let ended sessions be collected
	p.n -= len(*b) - len(kept)
	*b = kept
}
