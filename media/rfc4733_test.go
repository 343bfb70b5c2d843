package media

import (
	"testing"
	"time"
)

// ev is one telephone-event packet payload.
func ev(event byte, end bool, duration uint16) []byte {
	var e byte = 10 // volume -10 dBm0
	if end {
		e |= 0x80
	}
	return []byte{event, e, byte(duration >> 8), byte(duration)}
}

type evPacket struct {
	ssrc, ts uint32
	payload  []byte
	at       int // ms
}

// press is the packet train a phone sends for one key: a start packet,
// updates every 50 ms, and the end packet three times.
func pressTrain(ssrc, ts uint32, event byte, at, durMs int) []evPacket {
	var out []evPacket
	for d := 0; d < durMs; d += 50 {
		out = append(out, evPacket{ssrc, ts, ev(event, false, uint16(d*8)), at + d})
	}
	for i := range 3 {
		out = append(out, evPacket{ssrc, ts, ev(event, true, uint16(durMs*8)), at + durMs + i})
	}
	return out
}

func runEvents(onStart bool, pkts []evPacket) (string, []time.Time) {
	var keys string
	var starts []time.Time
	d := eventDetector{onStart: onStart, emit: func(k rune, start, _ time.Time) {
		keys += string(k)
		starts = append(starts, start)
	}}
	for _, p := range pkts {
		d.tick(ms(p.at))
		d.packet(p.ssrc, p.ts, p.payload, ms(p.at))
	}
	return keys, starts
}

func TestRFC4733AllSixteenEvents(t *testing.T) {
	var pkts []evPacket
	for e := range byte(16) {
		pkts = append(pkts, pressTrain(1, uint32(e)*4000, e, int(e)*500, 120)...)
	}
	if keys, _ := runEvents(false, pkts); keys != "0123456789*#ABCD" {
		t.Fatalf("got %q", keys)
	}
}

func TestRFC4733RepeatedEndsCountOnce(t *testing.T) {
	pkts := pressTrain(1, 1000, 5, 0, 200)
	// linphone repeats the final end packet yet again, same everything.
	pkts = append(pkts, pkts[len(pkts)-1], pkts[len(pkts)-1])
	if keys, _ := runEvents(false, pkts); keys != "5" {
		t.Fatalf("got %q", keys)
	}
	if keys, _ := runEvents(true, pkts); keys != "5" {
		t.Fatalf("on start: got %q", keys)
	}
}

func TestRFC4733LostStartsStillReportOnEnd(t *testing.T) {
	for _, onStart := range []bool{false, true} {
		train := pressTrain(1, 1000, 9, 0, 200)
		ends := train[len(train)-3:] // every start and update lost
		keys, starts := runEvents(onStart, ends)
		if keys != "9" {
			t.Fatalf("onStart=%v: got %q", onStart, keys)
		}
		// The duration says when the press began, for de-duplication.
		if got := starts[0]; !got.Equal(ms(0)) {
			t.Fatalf("press start estimated at %v", got.Sub(t0))
		}
	}
}

func TestRFC4733ReportsOnEndByDefaultOrOnStart(t *testing.T) {
	train := pressTrain(1, 1000, 1, 0, 200)
	var seenAt []int
	for _, onStart := range []bool{false, true} {
		d := eventDetector{onStart: onStart}
		for _, p := range train {
			d.emit = func(rune, time.Time, time.Time) { seenAt = append(seenAt, p.at) }
			d.packet(p.ssrc, p.ts, p.payload, ms(p.at))
		}
	}
	if len(seenAt) != 2 || seenAt[0] != 200 || seenAt[1] != 0 {
		t.Fatalf("reported at %v ms, want on end (200) then on start (0)", seenAt)
	}
}

func TestRFC4733Reordering(t *testing.T) {
	a := pressTrain(1, 1000, 1, 0, 100)
	b := pressTrain(1, 3000, 2, 200, 100)
	// An end packet of "1" overtakes its last update, and its repeated
	// ends arrive after "2" has started.
	pkts := []evPacket{a[0], a[2], a[1], b[0], a[3], b[1], b[2], b[3], a[4], b[4]}
	if keys, _ := runEvents(false, pkts); keys != "12" {
		t.Fatalf("got %q", keys)
	}
}

func TestRFC4733MissingEndIsReportedLate(t *testing.T) {
	a := pressTrain(1, 1000, 4, 0, 150)
	a = a[:len(a)-3] // all three end packets lost
	b := pressTrain(1, 5000, 6, 400, 100)
	if keys, _ := runEvents(false, append(a, b...)); keys != "46" {
		t.Fatalf("next event: got %q", keys)
	}
	// With nothing after it, the stale event is flushed by later audio.
	d := eventDetector{}
	var keys string
	d.emit = func(k rune, _, _ time.Time) { keys += string(k) }
	for _, p := range a {
		d.packet(p.ssrc, p.ts, p.payload, ms(p.at))
	}
	d.tick(ms(500))
	d.tick(ms(1200))
	if keys != "4" {
		t.Fatalf("stale: got %q", keys)
	}
}

func TestRFC4733SSRCChange(t *testing.T) {
	// Same timestamp under a new SSRC (the phone restarted its stream) is
	// a new press.
	pkts := append(pressTrain(1, 1000, 3, 0, 100), pressTrain(2, 1000, 3, 300, 100)...)
	if keys, _ := runEvents(false, pkts); keys != "33" {
		t.Fatalf("got %q", keys)
	}
}

func TestRFC4733ReplayedTimestamp(t *testing.T) {
	// SIPp's dtmf_2833 pcaps share one timestamp: "11" played from them is
	// the same packets twice, 500 ms apart.
	pkts := append(pressTrain(1, 1000, 1, 0, 100), pressTrain(1, 1000, 1, 500, 100)...)
	if keys, _ := runEvents(false, pkts); keys != "11" {
		t.Fatalf("got %q", keys)
	}
}

func TestRFC4733IgnoresJunk(t *testing.T) {
	pkts := []evPacket{
		{1, 1, []byte{1, 2}, 0},        // truncated
		{1, 2, ev(16, true, 800), 10},  // flash hook
		{1, 3, ev(200, true, 800), 20}, // not an event we know
		{1, 4, []byte{}, 30},
	}
	if keys, _ := runEvents(false, pkts); keys != "" {
		t.Fatalf("got %q", keys)
	}
}
