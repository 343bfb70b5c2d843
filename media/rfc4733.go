package media

import (
	"encoding/binary"
	"time"
)

// eventKeys maps RFC 4733 DTMF event codes 0-15 to keys.
const eventKeys = "0123456789*#ABCD"

// replayGap: a non-end packet reusing an ended event's timestamp with a
// shorter duration is a new press only if it comes this long after the end.
// Sooner, it is a reordered packet of the old press. SIPp's shipped
// dtmf_2833 pcaps all carry the same timestamp, so "11" played from them
// would otherwise be one digit.
const replayGap = 250 * time.Millisecond

// staleEvent: an event whose packets stopped without any end packet (all
// three lost) is reported after this much silence, so the digit is late
// rather than lost.
const staleEvent = 800 * time.Millisecond

type eventID struct {
	ssrc, ts uint32
	event    uint8
}

// eventDetector turns RFC 4733 telephone-event packets into presses. All
// packets of one event share an RTP timestamp; the digit is reported once,
// on the first end packet by default (the E bit is what makes the duration
// known), or on the first packet at all with onStart. It is used by the
// session's poller only.
type eventDetector struct {
	onStart bool
	emit    func(key rune, start, end time.Time)

	cur      eventID
	active   bool
	reported bool
	ended    bool
	first    time.Time
	last     time.Time
	endAt    time.Time
	duration uint16

	// recent remembers reported events so a packet of one that arrives
	// after a newer event started (reordering) is not a new press.
	recent [8]eventID
	nrec   int
}

func (d *eventDetector) packet(ssrc, ts uint32, payload []byte, now time.Time) {
	if len(payload) < 4 {
		return
	}
	ev := payload[0]
	if ev >= uint8(len(eventKeys)) {
		return // flash hook and tones other than DTMF
	}
	end := payload[1]&0x80 != 0
	dur := binary.BigEndian.Uint16(payload[2:4])
	id := eventID{ssrc: ssrc, ts: ts, event: ev}

	if d.active && id == d.cur {
		if d.reported {
			if end || !d.ended || dur >= d.duration || now.Sub(d.endAt) < replayGap {
				return // repeated end packets, late continuations
			}
			d.start(id, now) // same timestamp replayed: a new press
		}
	} else {
		if d.seen(id) {
			return
		}
		if d.active && ssrc == d.cur.ssrc && int32(ts-d.cur.ts) < 0 {
			return // a straggler of an older event we never saw begin
		}
		d.flush(now)
		d.start(id, now)
	}
	d.last = now
	if dur > d.duration {
		d.duration = dur
	}
	switch {
	case end:
		d.report(now)
		d.ended, d.endAt = true, now
	case d.onStart && !d.reported:
		d.report(now)
	}
}

func (d *eventDetector) start(id eventID, now time.Time) {
	d.cur, d.active = id, true
	d.reported, d.ended = false, false
	d.first, d.duration = now, 0
}

// report emits the current event as a press spanning its whole duration:
// when the start packets were lost the duration still says when it began,
// which is what lets the in-band report of the same press match it.
func (d *eventDetector) report(now time.Time) {
	start := now.Add(-time.Duration(d.duration) * time.Second / 8000)
	if d.first.Before(start) {
		start = d.first
	}
	d.reported = true
	d.recent[d.nrec%len(d.recent)] = d.cur
	d.nrec++
	d.emit(rune(eventKeys[d.cur.event]), start, now)
}

func (d *eventDetector) seen(id eventID) bool {
	for i := 0; i < len(d.recent) && i < d.nrec; i++ {
		if d.recent[i] == id {
			return true
		}
	}
	return false
}

// flush reports an event that never got its end packet before the next
// one began or its packets stopped.
func (d *eventDetector) flush(now time.Time) {
	if d.active && !d.reported {
		d.report(now)
	}
}

// tick is called for every received packet so a stale event is reported
// even when no further event follows it.
func (d *eventDetector) tick(now time.Time) {
	if d.active && !d.reported && now.Sub(d.last) > staleEvent {
		d.report(now)
	}
}
