package media

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// RecordEnd says why a recording stopped.
type RecordEnd uint8

const (
	EndKey       RecordEnd = iota + 1 // the caller pressed the stop key
	EndSilence                        // nothing above the voice floor for the silence limit
	EndMaxLength                      // the maximum length was reached
	EndHangup                         // the call ended (ctx done or session closed)
)

func (e RecordEnd) String() string {
	switch e {
	case EndKey:
		return "key"
	case EndSilence:
		return "silence"
	case EndMaxLength:
		return "max-length"
	case EndHangup:
		return "hang-up"
	}
	return "unknown"
}

// Recording limits; see Record.
type RecordLimits struct {
	MaxLen  time.Duration // a recording never runs longer
	Silence time.Duration // this long below the voice floor ends it (0: never)
	StopKey rune          // pressing it ends the recording; 0: none
}

// voiceFloor is the RMS over one frame that counts as someone speaking,
// about -44 dBFS: above a quiet line's hiss, well below speech.
const voiceFloor = 200

// keyTone is how long a key sent out of band (RFC 4733, SIP INFO) sounds
// in a recording: the caller pressed it in their message, so the mailbox
// owner hears it as if it had been in the audio.
const keyTone = 120 * time.Millisecond

// gapFill is the longest hole in the received RTP timestamps that is
// filled with silence; a longer one (a phone restarting its clock) is
// not taken as time that passed.
const gapFill = 2 * 8000

// recording is one Record in progress. The session's poller appends to
// it; Record reads it when it ends.
type recording struct {
	stopKey rune
	mu      sync.Mutex
	pcm     []int16
	max     int // samples
	nextTS  uint32
	started bool
	voiced  int // samples up to the end of the last frame above voiceFloor

	lastVoice atomic.Int64 // unix nanoseconds of the last frame above voiceFloor
	full      chan struct{}
	fullOnce  sync.Once
}

// add appends one received frame, filling a short gap in the RTP
// timestamps (lost or suppressed packets) with silence so the message
// keeps its timing.
func (r *recording) add(pcm []int16, ts uint32, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		if gap := int32(ts - r.nextTS); gap > 0 && gap <= gapFill {
			r.pcm = append(r.pcm, make([]int16, gap)...)
		} else if gap < 0 && gap > -gapFill {
			return // a duplicate or reordered frame already covered
		}
	}
	r.started, r.nextTS = true, ts+uint32(len(pcm))
	r.pcm = append(r.pcm, pcm...)
	if frameRMS(pcm) >= voiceFloor {
		r.lastVoice.Store(now.UnixNano())
		r.voiced = len(r.pcm)
	}
	if len(r.pcm) >= r.max {
		r.pcm = r.pcm[:r.max]
		r.fullOnce.Do(func() { close(r.full) })
	}
}

// pressed reports a key press to the call's digit stream and, if it is
// new and came out of band, writes its tone into the recording in
// progress at the point it was pressed: the reader hands a poll's packets
// over in one go, so the recorder's own goroutine would only see the key
// after the audio that followed it. In-band keys are in the audio
// already; the stop key is not part of the message.
func (s *Session) pressed(key rune, m Method, start, end time.Time) bool {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if !s.digits.report(key, m, start, end) {
		return false
	}
	if r := s.rec.Load(); r != nil && m != Inband && key != r.stopKey {
		r.addKey(key)
	}
	return true
}

// addKey writes the DTMF tone of key into the recording.
func (r *recording) addKey(key rune) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pcm = append(r.pcm, dtmfTone(key, keyTone)...)
	r.pcm = r.pcm[:min(len(r.pcm), r.max)]
	r.voiced = len(r.pcm)
}

func (r *recording) take() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pcm
}

// takeVoiced is the recording up to its last voice and a short tail, so
// the message does not end mid-breath nor in seconds of hiss.
func (r *recording) takeVoiced() []int16 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pcm[:min(len(r.pcm), r.voiced+300*8)]
}

func frameRMS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return 0
	}
	var sum float64
	for _, s := range pcm {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(pcm)))
}

// dtmfTone is a key's two tones at -10 dBFS each, for d.
func dtmfTone(key rune, d time.Duration) []int16 {
	var lo, hi float64
	for r := range 4 {
		for c := range 4 {
			if keypad[r][c] == key {
				lo, hi = rowFreqs[r], colFreqs[c]
			}
		}
	}
	out := make([]int16, int(d/(time.Second/8000)))
	if lo == 0 {
		return out
	}
	amp := 32767 * math.Pow(10, -10.0/20)
	for i := range out {
		t := float64(i) / 8000
		out[i] = int16(amp * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t)) / 2)
	}
	return out
}

// Record captures what the caller says as 8 kHz linear PCM, decoded from
// the G.711 frames received, until the stop key, lim.Silence without
// voice, lim.MaxLen, or the end of the call (EndHangup, with what was
// recorded so far: a caller who hangs up has finished their message).
// Other keys stay in the recording: in-band ones are in the audio
// already, out-of-band ones are written in as their tones. Trailing
// silence that ended the recording, and the stop key's own tone, are cut.
func (s *Session) Record(ctx context.Context, lim RecordLimits) ([]int16, RecordEnd) {
	if lim.MaxLen <= 0 {
		lim.MaxLen = 3 * time.Minute // a recording nobody bounded must still end
	}
	r := &recording{max: int(lim.MaxLen / (time.Second / 8000)), full: make(chan struct{}), stopKey: lim.StopKey}
	start := time.Now()
	r.lastVoice.Store(start.UnixNano())
	// Keys pressed from now on are written in where they were pressed,
	// by pressed; the ones already queued (typed during the beep) are
	// written by the loop below, at the start.
	s.recMu.Lock()
	s.rec.Store(r)
	early := s.digits.pending.Load()
	s.recMu.Unlock()
	defer s.rec.Store(nil)

	maxTimer := time.NewTimer(lim.MaxLen)
	defer maxTimer.Stop()
	quiet := time.NewTimer(time.Hour)
	defer quiet.Stop()
	var quietC <-chan time.Time
	armQuiet := func() {
		if lim.Silence > 0 {
			quiet.Reset(time.Until(time.Unix(0, r.lastVoice.Load()).Add(lim.Silence)))
			quietC = quiet.C
		}
	}
	armQuiet()
	for {
		if err := s.alive(ctx); err != nil {
			return r.take(), EndHangup
		}
		d, wake, ok := s.digits.pop()
		if ok {
			if lim.StopKey != 0 && d.Key == lim.StopKey {
				return trimEnd(r.take(), 150*time.Millisecond), EndKey
			}
			if early > 0 {
				early--
				if d.Method != Inband {
					r.addKey(d.Key)
				}
			}
			continue
		}
		select {
		case <-wake:
		case <-r.full:
			return r.take(), EndMaxLength
		case <-maxTimer.C:
			return r.take(), EndMaxLength
		case <-quietC:
			if since := time.Since(time.Unix(0, r.lastVoice.Load())); since >= lim.Silence {
				return r.takeVoiced(), EndSilence
			}
			armQuiet()
		case <-ctx.Done():
			return r.take(), EndHangup
		case <-s.done:
			return r.take(), EndHangup
		}
	}
}

// trimEnd drops the last d of pcm.
func trimEnd(pcm []int16, d time.Duration) []int16 {
	cut := int(d / (time.Second / 8000))
	if cut <= 0 {
		return pcm
	}
	return pcm[:max(0, len(pcm)-cut)]
}
