package rtppcap

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// Ptime is the packetisation interval of every generated stream, the one
// every G.711 phone uses by default.
const Ptime = 20 * time.Millisecond

const samplesPerFrame = 160 // 20 ms at 8 kHz

// Packet is one RTP packet and when to send it, as an offset from the
// start of the stream.
type Packet struct {
	At time.Duration
	rtp.Packet
}

// Codec is a G.711 variant, its value its static RTP payload type.
type Codec uint8

const (
	PCMU Codec = 0
	PCMA Codec = 8
)

var codecNames = map[Codec]string{PCMU: "PCMU", PCMA: "PCMA"}

func (c Codec) String() string {
	if name, ok := codecNames[c]; ok {
		return name
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// Silence is the codec's byte for a zero sample.
func (c Codec) Silence() byte { return c.encode(0) }

func (c Codec) encode(s int16) byte {
	if c == PCMA {
		return g711.EncodeAlawFrame(s)
	}
	return g711.EncodeUlawFrame(s)
}

// Option changes a generator's defaults.
type Option func(*config)

type config struct {
	ssrc    uint32
	seq     uint16
	ts      uint32
	tone    time.Duration
	gap     time.Duration
	leadIn  time.Duration
	audio   bool
	volume  uint8
	audioPT Codec
}

// The defaults are fixed rather than random (as RFC 3550 asks of real
// senders) so that generated files are reproducible.
func defaults() config {
	return config{
		ssrc:   0x6465736b, // "desk"
		seq:    1000,
		ts:     8000,
		tone:   100 * time.Millisecond,
		gap:    100 * time.Millisecond,
		volume: 10,
	}
}

// WithSSRC sets the stream's SSRC.
func WithSSRC(ssrc uint32) Option { return func(c *config) { c.ssrc = ssrc } }

// WithSeq sets the first sequence number; pass something near 65535 to
// exercise wrap-around in a receiver.
func WithSeq(seq uint16) Option { return func(c *config) { c.seq = seq } }

// WithTimestamp sets the first RTP timestamp; like WithSeq, useful for
// testing wrap-around.
func WithTimestamp(ts uint32) Option { return func(c *config) { c.ts = ts } }

// WithTone sets how long each digit lasts (default 100 ms), rounded to
// whole 20 ms packets.
func WithTone(d time.Duration) Option { return func(c *config) { c.tone = d } }

// WithGap sets the pause after each digit (default 100 ms), rounded to
// whole 20 ms packets.
func WithGap(d time.Duration) Option { return func(c *config) { c.gap = d } }

// WithLeadIn delays the first digit; with audio on (always for in-band,
// WithAudio for RFC 4733) the delay is filled with silence frames, like a
// phone that was already sending audio when the user started typing.
func WithLeadIn(d time.Duration) Option { return func(c *config) { c.leadIn = d } }

// WithAudio makes RFC4733Digits fill every 20 ms slot not taken by an event
// packet with a G.711 silence frame of codec c, as a real phone's stream
// looks. It has no effect on InbandDigits.
func WithAudio(c Codec) Option {
	return func(cfg *config) { cfg.audio, cfg.audioPT = true, c }
}

// WithVolume sets the RFC 4733 volume field, in -dBm0 (0..63, default 10).
func WithVolume(v uint8) Option { return func(c *config) { c.volume = v } }

// eventCode maps a keypad key to its RFC 4733 event code.
func eventCode(r rune) (uint8, bool) {
	switch {
	case r >= '0' && r <= '9':
		return uint8(r - '0'), true
	case r == '*':
		return 10, true
	case r == '#':
		return 11, true
	case r >= 'A' && r <= 'D':
		return uint8(12 + r - 'A'), true
	case r >= 'a' && r <= 'd':
		return uint8(12 + r - 'a'), true
	}
	return 0, false
}

func slots(d time.Duration) int {
	return int((d + Ptime/2) / Ptime)
}

// stream lays packets out in 20 ms slots. Every packet's RTP timestamp and
// send time derive from its slot, so the RTP clock and the capture clock
// never drift apart.
type stream struct {
	cfg  config
	seq  uint16
	pkts []Packet
}

func (s *stream) tsOf(slot int) uint32 {
	return s.cfg.ts + uint32(slot*samplesPerFrame)
}

func (s *stream) add(slot int, pt uint8, marker bool, ts uint32, payload []byte) {
	s.pkts = append(s.pkts, Packet{
		At: time.Duration(slot) * Ptime,
		Packet: rtp.Packet{
			Header: rtp.Header{
				Version:        2,
				Marker:         marker,
				PayloadType:    pt,
				SequenceNumber: s.seq,
				Timestamp:      ts,
				SSRC:           s.cfg.ssrc,
			},
			Payload: payload,
		},
	})
	s.seq++
}

func parseDigits(digits string) ([]rune, error) {
	if digits == "" {
		return nil, fmt.Errorf("rtppcap: no digits")
	}
	keys := []rune(digits)
	for i, r := range keys {
		if _, ok := eventCode(r); !ok {
			return nil, fmt.Errorf("rtppcap: %q at position %d is not a DTMF key (0-9 * # A-D)", r, i)
		}
	}
	return keys, nil
}

// digitStream is the configuration opts make and the keys of digits,
// what both kinds of digit stream start from.
func digitStream(digits string, opts []Option) (config, []rune, error) {
	cfg := defaults()
	for _, o := range opts {
		o(&cfg)
	}
	keys, err := parseDigits(digits)
	return cfg, keys, err
}

// RFC4733Digits returns a telephone-event stream (payload type pt) keying
// digits. Each event is sent the way common phones do: a start packet with
// the marker bit and a duration of one frame, updates every 20 ms with the
// same timestamp and a growing duration, then three end packets with the E
// bit and the final duration. Successive events have distinct, increasing
// timestamps (one per slot), so a receiver can tell "11" from "1".
func RFC4733Digits(digits string, pt uint8, opts ...Option) ([]Packet, error) {
	cfg, keys, err := digitStream(digits, opts)
	if err != nil {
		return nil, err
	}
	if pt > 127 {
		return nil, fmt.Errorf("rtppcap: payload type %d out of range", pt)
	}
	if cfg.audio && uint8(cfg.audioPT) == pt {
		return nil, fmt.Errorf("rtppcap: audio and events both use payload type %d", pt)
	}
	if cfg.volume > 63 {
		return nil, fmt.Errorf("rtppcap: volume %d out of range 0..63", cfg.volume)
	}
	tone, gap, lead := slots(cfg.tone), slots(cfg.gap), slots(cfg.leadIn)
	if tone < 2 || tone*samplesPerFrame > math.MaxUint16 {
		return nil, fmt.Errorf("rtppcap: tone %v out of range 40ms..8s", cfg.tone)
	}
	// The two end-packet repeats occupy the first two slots of the gap.
	if gap < 2 {
		return nil, fmt.Errorf("rtppcap: gap %v too short for the end-packet repeats (min 40ms)", cfg.gap)
	}

	s := &stream{cfg: cfg, seq: cfg.seq}
	var silence []byte
	if cfg.audio {
		silence = make([]byte, samplesPerFrame)
		for i := range silence {
			silence[i] = cfg.audioPT.encode(0)
		}
	}
	audio := func(from, to int, markFirst bool) {
		if !cfg.audio {
			return
		}
		for slot := from; slot < to; slot++ {
			s.add(slot, uint8(cfg.audioPT), markFirst && slot == from, s.tsOf(slot), silence)
		}
	}

	audio(0, lead, true)
	start := lead
	for _, k := range keys {
		code, _ := eventCode(k)
		ts := s.tsOf(start)
		for j := 0; j < tone+2; j++ {
			end := j >= tone-1
			dur := uint16(min(j+1, tone) * samplesPerFrame)
			flags := cfg.volume
			if end {
				flags |= 0x80
			}
			payload := []byte{code, flags, byte(dur >> 8), byte(dur)}
			s.add(start+j, pt, j == 0, ts, payload)
		}
		next := start + tone + gap
		// Audio resumes after the event as a new talkspurt (marker set),
		// as Asterisk does.
		audio(start+tone+2, next, true)
		start = next
	}
	return s.pkts, nil
}

// DTMF frequencies (ITU-T Q.23), rows and columns of the keypad.
var (
	dtmfLow  = [4]float64{697, 770, 852, 941}
	dtmfHigh = [4]float64{1209, 1336, 1477, 1633}
	keypad   = [4]string{"123A", "456B", "789C", "*0#D"}
)

func dtmfFreqs(r rune) (lo, hi float64) {
	if r >= 'a' && r <= 'd' {
		r -= 'a' - 'A'
	}
	for i, row := range keypad {
		if j := strings.IndexRune(row, r); j >= 0 {
			return dtmfLow[i], dtmfHigh[j]
		}
	}
	panic("rtppcap: not a DTMF key: " + string(r))
}

// InbandDigits returns a G.711 audio stream (codec's static payload type)
// in which each digit is a dual tone (default 100 ms) followed by silence
// (default 100 ms). level is the level of each of the two tones in dBFS,
// taking a full-scale sine as 0 dBFS; it must be at most -6.03 dBFS so the
// sum of the two cannot clip. The first packet carries the marker bit and
// the stream is continuous from then on, like a phone's.
func InbandDigits(digits string, codec Codec, level float64, opts ...Option) ([]Packet, error) {
	cfg, keys, err := digitStream(digits, opts)
	if err != nil {
		return nil, err
	}
	if codec != PCMU && codec != PCMA {
		return nil, fmt.Errorf("rtppcap: unsupported codec %v", codec)
	}
	if level > -20*math.Log10(2) || math.IsNaN(level) {
		return nil, fmt.Errorf("rtppcap: level %.2f dBFS per tone would clip (max -6.03)", level)
	}
	tone, gap, lead := slots(cfg.tone), slots(cfg.gap), slots(cfg.leadIn)
	if tone < 1 {
		return nil, fmt.Errorf("rtppcap: tone %v shorter than one packet", cfg.tone)
	}
	amp := 32767 * math.Pow(10, level/20)
	silence := make([]byte, samplesPerFrame)
	for i := range silence {
		silence[i] = codec.encode(0)
	}

	s := &stream{cfg: cfg, seq: cfg.seq}
	slot := 0
	emit := func(payload []byte) {
		s.add(slot, uint8(codec), slot == 0, s.tsOf(slot), payload)
		slot++
	}
	for range lead {
		emit(silence)
	}
	for _, k := range keys {
		lo, hi := dtmfFreqs(k)
		// Phase runs on across the digit's frames: restarting it every
		// frame would put a click every 20 ms.
		for f := range tone {
			frame := make([]byte, samplesPerFrame)
			for i := range frame {
				t := float64(f*samplesPerFrame+i) / 8000
				v := amp * (math.Sin(2*math.Pi*lo*t) + math.Sin(2*math.Pi*hi*t))
				frame[i] = codec.encode(int16(math.Round(v)))
			}
			emit(frame)
		}
		for range gap {
			emit(silence)
		}
	}
	return s.pkts, nil
}
