package media

import (
	"math"
	"testing"
)

// sweep is a 300-3400 Hz chirp at -6 dBFS, the band G.711 carries.
func sweep(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		t := float64(i) / 8000
		dur := float64(n) / 8000
		f := 300 + (3400-300)*t/(2*dur)
		pcm[i] = int16(16384 * math.Sin(2*math.Pi*f*t))
	}
	return pcm
}

func snr(ref, got []int16) float64 {
	var sig, noise float64
	for i := range ref {
		d := float64(ref[i]) - float64(got[i])
		sig += float64(ref[i]) * float64(ref[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

func TestG711RoundTripQuality(t *testing.T) {
	pcm := sweep(8000)
	for _, c := range []Codec{PCMU, PCMA} {
		enc := c.Encode(nil, pcm)
		if len(enc) != len(pcm) {
			t.Fatalf("%v: %d bytes for %d samples", c, len(enc), len(pcm))
		}
		// G.711 gives about 38 dB SNR on a loud signal.
		if q := snr(pcm, c.Decode(nil, enc)); q < 33 {
			t.Errorf("%v round trip SNR %.1f dB", c, q)
		}
	}
}

func TestG711SilenceDecodesNearZero(t *testing.T) {
	for _, c := range []Codec{PCMU, PCMA} {
		if v := c.Decode(nil, []byte{c.Silence()})[0]; v < -8 || v > 8 {
			t.Errorf("%v silence byte decodes to %d", c, v)
		}
	}
}

func TestPromptTranscodeToAlaw(t *testing.T) {
	pcm := sweep(1600)
	ulaw := PCMU.Encode(nil, pcm)
	alaw := make([]byte, len(ulaw))
	PCMA.FromUlaw(alaw, ulaw)
	// The table transcode must sound like the prompt: compare what the
	// phone decodes with the prompt decoded as µ-law.
	if q := snr(PCMU.Decode(nil, ulaw), PCMA.Decode(nil, alaw)); q < 33 {
		t.Fatalf("µ-law to A-law transcode SNR %.1f dB", q)
	}
	if string(UlawToAlaw(ulaw)) != string(alaw) {
		t.Fatal("UlawToAlaw disagrees with FromUlaw")
	}
	back := AlawToUlaw(alaw)
	if q := snr(PCMU.Decode(nil, ulaw), PCMU.Decode(nil, back)); q < 30 {
		t.Fatalf("µ-law -> A-law -> µ-law SNR %.1f dB", q)
	}
	same := make([]byte, len(ulaw))
	PCMU.FromUlaw(same, ulaw)
	if string(same) != string(ulaw) {
		t.Fatal("PCMU.FromUlaw changed the prompt")
	}
}

func TestCodecNames(t *testing.T) {
	if PCMU.String() != "PCMU" || PCMA.String() != "PCMA" || Codec(18).String() != "Codec(18)" {
		t.Fatal("codec names")
	}
	if !PCMU.Valid() || Codec(9).Valid() {
		t.Fatal("codec validity")
	}
}
