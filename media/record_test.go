package media

import (
	"math"
	"testing"
	"time"
)

// sine is f Hz at level dBFS for ms milliseconds.
func sine(f, level float64, ms int) []int16 {
	out := make([]int16, ms*8)
	amp := 32767 * pow10(level/20)
	for i := range out {
		out[i] = int16(amp * sinAt(f, i))
	}
	return out
}

// powerAt is the Goertzel power of f over pcm, normalised so a
// full-scale sine gives about 1.
func powerAt(pcm []int16, f float64) float64 {
	if len(pcm) == 0 {
		return 0
	}
	coef := 2 * math.Cos(2*math.Pi*f/8000)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x)/32768 + coef*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coef*s1*s2
	return p / math.Pow(float64(len(pcm))/2, 2)
}

func TestRecordKeepsTheMessageAndStopsOnPound(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMA, 101)
	type result struct {
		pcm []int16
		end RecordEnd
	}
	done := make(chan result, 1)
	go func() {
		pcm, end := s.Record(ctxFor(t), RecordLimits{MaxLen: 10 * time.Second, Silence: 5 * time.Second, StopKey: '#'})
		done <- result{pcm, end}
	}()
	waitFor(t, "the recorder to start", func() bool { return s.rec.Load() != nil })
	p.sendAudio(PCMA, sine(1000, -12, 1000))
	p.sendEvent(101, '5', 100) // a key of the message, sent out of band
	p.sendAudio(PCMA, sine(1000, -12, 200))
	p.sendEvent(101, '#', 100)
	r := <-done
	if r.end != EndKey {
		t.Fatalf("recording ended by %v, want the # key", r.end)
	}
	// 1.2 s of audio plus the 100 ms the event took (a gap in the
	// timestamps, kept as silence) plus the key's written tone.
	if secs := float64(len(r.pcm)) / 8000; secs < 1.1 || secs > 1.7 {
		t.Fatalf("recorded %.2f s, want about 1.4", secs)
	}
	if p := powerAt(r.pcm[:8000], 1000); p < 0.01 {
		t.Fatalf("1 kHz power in the first second %.4f: the caller's audio is not in the recording", p)
	}
	key := r.pcm[8000:]
	if lo, hi := powerAt(key, 770), powerAt(key, 1336); lo < 1e-3 || hi < 1e-3 {
		t.Fatalf("the 5 pressed during the message is not heard in it (770 Hz %.5f, 1336 Hz %.5f)", lo, hi)
	}
	if p := powerAt(key, 941); p > 1e-4 {
		t.Fatalf("the # that stopped the recording is written into it (941 Hz %.5f)", p)
	}
}

func TestRecordEndsOnSilenceAndCutsIt(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	done := make(chan []int16, 1)
	var end RecordEnd
	go func() {
		pcm, e := s.Record(ctxFor(t), RecordLimits{MaxLen: 10 * time.Second, Silence: 1500 * time.Millisecond, StopKey: '#'})
		end = e
		done <- pcm
	}()
	waitFor(t, "the recorder to start", func() bool { return s.rec.Load() != nil })
	p.sendAudio(PCMU, sine(440, -15, 800))
	// Then the phone goes quiet (silence suppression: no packets).
	pcm := <-done
	if end != EndSilence {
		t.Fatalf("ended by %v, want silence", end)
	}
	if secs := float64(len(pcm)) / 8000; secs < 0.75 || secs > 1.2 {
		t.Fatalf("kept %.2f s, want the 0.8 s spoken plus a short tail", secs)
	}
}

func TestRecordEndsAtMaxLengthAndOnHangup(t *testing.T) {
	t.Parallel()
	s := newTestSession(t, Config{})
	p := newPhone(t, s.LocalAddr())
	connect(s, p, PCMU, 101)
	done := make(chan RecordEnd, 1)
	var pcm []int16
	go func() {
		var e RecordEnd
		pcm, e = s.Record(ctxFor(t), RecordLimits{MaxLen: 500 * time.Millisecond, StopKey: '#'})
		done <- e
	}()
	waitFor(t, "the recorder to start", func() bool { return s.rec.Load() != nil })
	p.sendAudio(PCMU, sine(440, -15, 400))
	if e := <-done; e != EndMaxLength || len(pcm) > 4000 {
		t.Fatalf("ended by %v with %d samples, want max length with at most 4000", e, len(pcm))
	}

	go func() {
		_, e := s.Record(ctxFor(t), RecordLimits{MaxLen: 10 * time.Second, StopKey: '#'})
		done <- e
	}()
	waitFor(t, "the recorder to start", func() bool { return s.rec.Load() != nil })
	s.Close()
	if e := <-done; e != EndHangup {
		t.Fatalf("ended by %v when the call closed, want hang-up", e)
	}
}
