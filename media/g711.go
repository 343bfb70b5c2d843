package media

import (
	"fmt"

	"github.com/zaf/g711"
)

// Codec is a G.711 variant, named by its static RTP payload type (RFC 3551).
// Only G.711 is supported: every desk phone has it and it needs no DSP.
type Codec uint8

const (
	PCMU Codec = 0 // G.711 µ-law
	PCMA Codec = 8 // G.711 A-law
)

// SamplesPerFrame is one 20 ms frame at 8 kHz: the only packetisation we send.
const SamplesPerFrame = 160

// PayloadType is the RTP payload type carried in packets of this codec.
func (c Codec) PayloadType() uint8 { return uint8(c) }

func (c Codec) String() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	}
	return fmt.Sprintf("Codec(%d)", uint8(c))
}

// Valid reports whether c is one of the codecs we can encode and decode.
func (c Codec) Valid() bool { return c == PCMU || c == PCMA }

// Silence is the byte that decodes to (near) zero: padding a short frame
// with 0x00 instead would be a full-scale click in µ-law.
func (c Codec) Silence() byte {
	if c == PCMA {
		return 0xD5
	}
	return 0xFF
}

// Decode appends the linear PCM of payload to dst and returns it; with a
// dst of enough capacity it does not allocate.
func (c Codec) Decode(dst []int16, payload []byte) []int16 {
	if c == PCMA {
		for _, b := range payload {
			dst = append(dst, g711.DecodeAlawFrame(b))
		}
		return dst
	}
	for _, b := range payload {
		dst = append(dst, g711.DecodeUlawFrame(b))
	}
	return dst
}

// Encode appends the G.711 encoding of pcm to dst and returns it.
func (c Codec) Encode(dst []byte, pcm []int16) []byte {
	if c == PCMA {
		for _, s := range pcm {
			dst = append(dst, g711.EncodeAlawFrame(s))
		}
		return dst
	}
	for _, s := range pcm {
		dst = append(dst, g711.EncodeUlawFrame(s))
	}
	return dst
}

// FromUlaw writes µ-law samples into dst in this codec (len(dst) must be at
// least len(ulaw)). Prompts are stored as µ-law only, so a PCMA call
// transcodes them frame by frame through a table, without going via linear.
func (c Codec) FromUlaw(dst, ulaw []byte) {
	if c == PCMA {
		for i, b := range ulaw {
			dst[i] = g711.Ulaw2AlawFrame(b)
		}
		return
	}
	copy(dst, ulaw)
}

// UlawToAlaw returns a new A-law copy of µ-law samples.
func UlawToAlaw(ulaw []byte) []byte { return g711.Ulaw2Alaw(ulaw) }

// AlawToUlaw returns a new µ-law copy of A-law samples.
func AlawToUlaw(alaw []byte) []byte { return g711.Alaw2Ulaw(alaw) }
