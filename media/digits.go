package media

import (
	"sync"
	"sync/atomic"
	"time"
)

// Method is how a digit reached us.
type Method uint8

const (
	RFC4733 Method = 1 << iota // telephone-event RTP packets
	Inband                     // DTMF tones in the received audio
	INFO                       // SIP INFO, fed by pbx
)

func (m Method) String() string {
	switch m {
	case RFC4733:
		return "RFC 4733"
	case Inband:
		return "in-band"
	case INFO:
		return "SIP INFO"
	}
	return "unknown"
}

// Digit is one key press as the caller made it, once, whichever methods
// carried it.
type Digit struct {
	Key    rune   // 0-9 * # A-D
	Method Method // the method that reported the press first
	At     time.Time
}

// validKey reports whether r is a DTMF key.
func validKey(r rune) bool {
	return (r >= '0' && r <= '9') || r == '*' || r == '#' || (r >= 'A' && r <= 'D')
}

// pressSlack is how far apart two methods' views of the same press may lie.
// The RTP methods share one stream and differ by tens of ms; SIP INFO takes
// the signalling path through pbx and may lag more.
const pressSlack = 300 * time.Millisecond

// pressMemory is how long a press stays eligible to absorb a duplicate.
// RFC 4733 reports on the end packet, so a long press shows up that much
// after the in-band detector saw its start; 10 s is longer than anyone holds
// a key in a menu.
const pressMemory = 10 * time.Second

// maxQueued bounds digits nobody collects (during Echo, say): the oldest go.
const maxQueued = 64

// press is one key press as seen so far, with the set of methods that have
// reported it. A method can report a press only once, which is what lets a
// quick "5 5" come out as two digits while a tone that also travels as an
// RFC 4733 event comes out as one.
type press struct {
	key        rune
	methods    Method
	start, end time.Time
}

// digitStream is one call's digit stream. Detectors report into it from the
// RTP goroutine, pbx feeds INFO digits from SIP goroutines, the IVR reads.
type digitStream struct {
	mu      sync.Mutex
	presses []press
	queue   []Digit
	changed chan struct{} // closed and replaced whenever the queue grows
	pending atomic.Int32  // len(queue), read without the lock per frame by Play
	seen    Method        // every method that reported a press, duplicates included

	// swallow drops a terminator typed right after Collect already ended on
	// max digits ("1234#" into a 4-digit prompt): left queued, that '#'
	// would end the next Collect empty.
	swallowKey   rune
	swallowUntil time.Time
}

func newDigitStream() *digitStream {
	return &digitStream{changed: make(chan struct{})}
}

// report records one method's view of a press spanning start..end and
// queues a digit unless another method already reported the same press.
func (s *digitStream) report(key rune, m Method, start, end time.Time) bool {
	if !validKey(key) {
		return false
	}
	if end.Before(start) {
		end = start
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen |= m

	keep := s.presses[:0]
	for _, p := range s.presses {
		if end.Sub(p.end) < pressMemory {
			keep = append(keep, p)
		}
	}
	s.presses = keep

	// The oldest eligible press absorbs the report: presses are matched in
	// the order they happened.
	for i := range s.presses {
		p := &s.presses[i]
		if p.key != key || p.methods&m != 0 {
			continue
		}
		if start.After(p.end.Add(pressSlack)) || end.Before(p.start.Add(-pressSlack)) {
			continue
		}
		p.methods |= m
		if start.Before(p.start) {
			p.start = start
		}
		if end.After(p.end) {
			p.end = end
		}
		return false
	}
	s.presses = append(s.presses, press{key: key, methods: m, start: start, end: end})

	if s.swallowKey != 0 {
		swallow := key == s.swallowKey && !end.After(s.swallowUntil)
		s.swallowKey = 0
		if swallow {
			return false
		}
	}
	if len(s.queue) == maxQueued {
		s.queue = append(s.queue[:0], s.queue[1:]...)
	}
	s.queue = append(s.queue, Digit{Key: key, Method: m, At: end})
	s.pending.Store(int32(len(s.queue)))
	close(s.changed)
	s.changed = make(chan struct{})
	return true
}

// pop takes the oldest queued digit, or returns the channel that is closed
// when one arrives.
func (s *digitStream) pop() (Digit, <-chan struct{}, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Digit{}, s.changed, false
	}
	d := s.queue[0]
	s.queue = append(s.queue[:0], s.queue[1:]...)
	s.pending.Store(int32(len(s.queue)))
	return d, nil, true
}

// swallowNext drops the next digit if it is key and comes before until;
// a queued one is dropped at once.
func (s *digitStream) swallowNext(key rune, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		if s.queue[0].Key == key {
			s.queue = append(s.queue[:0], s.queue[1:]...)
			s.pending.Store(int32(len(s.queue)))
		}
		return
	}
	s.swallowKey, s.swallowUntil = key, until
}

func (s *digitStream) methodsSeen() Method {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen
}

func (s *digitStream) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = s.queue[:0]
	s.pending.Store(0)
	s.swallowKey = 0
}
