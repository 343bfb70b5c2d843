package media

import (
	"testing"
	"time"
)

var t0 = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func drain(s *digitStream) (keys string, methods []Method) {
	for {
		d, _, ok := s.pop()
		if !ok {
			return
		}
		keys += string(d.Key)
		methods = append(methods, d.Method)
	}
}

func TestDigitStreamMergesOnePressSeenTwice(t *testing.T) {
	// The phone sends RFC 4733 and leaves the tone in the audio: in-band
	// confirms the tone 30 ms in, the event is reported on its end.
	s := newDigitStream()
	s.report('5', Inband, ms(0), ms(30))
	s.report('5', RFC4733, ms(0), ms(120))
	keys, methods := drain(s)
	if keys != "5" || methods[0] != Inband {
		t.Fatalf("got %q via %v", keys, methods)
	}
}

func TestDigitStreamKeepsRepeatedPresses(t *testing.T) {
	// "55" with both methods: two presses, each reported twice.
	s := newDigitStream()
	s.report('5', Inband, ms(0), ms(30))
	s.report('5', RFC4733, ms(0), ms(100))
	s.report('5', Inband, ms(200), ms(230))
	s.report('5', RFC4733, ms(200), ms(300))
	if keys, _ := drain(s); keys != "55" {
		t.Fatalf("got %q", keys)
	}
}

func TestDigitStreamLongPress(t *testing.T) {
	// Held for 3 s: in-band reports at the start, RFC 4733 at the end
	// with a duration that reaches back to the start.
	s := newDigitStream()
	s.report('0', Inband, ms(0), ms(30))
	s.report('0', RFC4733, ms(5), ms(3000))
	if keys, _ := drain(s); keys != "0" {
		t.Fatalf("got %q", keys)
	}
}

func TestDigitStreamINFOAndRTP(t *testing.T) {
	s := newDigitStream()
	s.report('7', RFC4733, ms(0), ms(100))
	s.report('7', INFO, ms(180), ms(180)) // INFO came via pbx, later
	s.report('8', INFO, ms(400), ms(400))
	keys, methods := drain(s)
	if keys != "78" || methods[0] != RFC4733 || methods[1] != INFO {
		t.Fatalf("got %q via %v", keys, methods)
	}
}

func TestDigitStreamSameMethodNeverMerges(t *testing.T) {
	// Two INFO "1"s 50 ms apart are two presses: each method's own
	// detector already de-duplicates its packets.
	s := newDigitStream()
	s.report('1', INFO, ms(0), ms(0))
	s.report('1', INFO, ms(50), ms(50))
	if keys, _ := drain(s); keys != "11" {
		t.Fatalf("got %q", keys)
	}
}

func TestDigitStreamFarApartIsTwoPresses(t *testing.T) {
	s := newDigitStream()
	s.report('3', Inband, ms(0), ms(30))
	s.report('3', RFC4733, ms(2000), ms(2100)) // in-band missed the second press
	if keys, _ := drain(s); keys != "33" {
		t.Fatalf("got %q", keys)
	}
}

func TestDigitStreamRejectsInvalidKeys(t *testing.T) {
	s := newDigitStream()
	for _, k := range "xE\x00" {
		if s.report(k, INFO, ms(0), ms(0)) {
			t.Fatalf("%q accepted", k)
		}
	}
}

func TestDigitStreamBoundsUncollectedDigits(t *testing.T) {
	s := newDigitStream()
	for i := range maxQueued + 10 {
		s.report(rune('0'+i%10), INFO, ms(i*1000), ms(i*1000))
	}
	if n := s.pending.Load(); n != maxQueued {
		t.Fatalf("%d queued", n)
	}
}
