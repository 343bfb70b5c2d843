package media

import (
	"fmt"
	"math"
	"testing"
)

// detect runs the in-band detector over pcm in 20 ms packets and returns
// the keys it reported.
func detect(pcm []int16) string {
	var got []rune
	d := toneDetector{onDigit: func(k rune, _ int) { got = append(got, k) }}
	for len(pcm) > 0 {
		n := min(SamplesPerFrame, len(pcm))
		d.feed(pcm[:n])
		pcm = pcm[n:]
	}
	return string(got)
}

func TestInbandDetectsEveryKeyAcrossLevelsTwistAndNoise(t *testing.T) {
	keys := "123A456B789C*0#D"
	for _, codec := range []Codec{PCMU, PCMA} {
		for _, level := range []float64{-3, -10, -20, -30} {
			for _, twist := range []float64{0, 7.5, -3.5} {
				for i, key := range keys {
					tn := tone{key: key, level: level, twist: twist, ms: 70, snr: 20, seed: uint64(i)}
					pcm := append(silencePCM(60, 1), tn.pcm()...)
					pcm = append(pcm, silencePCM(60, 2)...)
					if got := detect(throughCodec(codec, pcm)); got != string(key) {
						t.Errorf("%v %q at %v dBFS, twist %+v dB, 20 dB SNR: detected %q", codec, key, level, twist, got)
					}
				}
			}
		}
	}
}

func TestInbandSequenceWithShortPauses(t *testing.T) {
	// 50 ms tones with 50 ms pauses: faster than anyone dials by hand.
	var pcm []int16
	want := "0123456789*#ABCD55"
	for i, k := range want {
		pcm = append(pcm, tone{key: k, level: -12, ms: 50, snr: 25, seed: uint64(i)}.pcm()...)
		pcm = append(pcm, silencePCM(50, uint64(i))...)
	}
	if got := detect(throughCodec(PCMU, pcm)); got != want {
		t.Fatalf("detected %q, want %q", got, want)
	}
}

func TestInbandHoldsALongPressAsOneDigit(t *testing.T) {
	pcm := tone{key: '7', level: -10, ms: 2000, snr: 20, seed: 3}.pcm()
	if got := detect(throughCodec(PCMA, pcm)); got != "7" {
		t.Fatalf("2 s press detected as %q", got)
	}
}

func TestInbandToleratesFrequencyError(t *testing.T) {
	for _, off := range []float64{-0.015, 0.015} {
		pcm := tone{key: '9', level: -10, ms: 80, snr: 20, offsetF: off}.pcm()
		if got := detect(throughCodec(PCMU, pcm)); got != "9" {
			t.Errorf("%+.1f%% off: detected %q", off*100, got)
		}
	}
}

func TestInbandRejectsWhatIsNotDTMF(t *testing.T) {
	cases := map[string][]int16{
		"too quiet (-50 dBFS)":      tone{key: '5', level: -50, ms: 100}.pcm(),
		"twist beyond 8 dB":         tone{key: '5', level: -10, twist: 11, ms: 100}.pcm(),
		"reverse twist beyond 4 dB": tone{key: '5', level: -10, twist: -7, ms: 100}.pcm(),
		"too short (15 ms)":         tone{key: '5', level: -10, ms: 15}.pcm(),
		"noise (0 dB SNR)":          tone{key: '5', level: -10, ms: 100, snr: 0.5, seed: 9}.pcm(),
		"line silence":              silencePCM(500, 4),
		"dial tone 350+440 Hz":      sines(-10, 1000, 350, 440),
		"single 1209 Hz tone":       sines(-10, 500, 1209),
		"one row plus a second row": sines(-10, 200, 697, 770, 1209),
	}
	for name, pcm := range cases {
		if got := detect(throughCodec(PCMU, pcm)); got != "" {
			t.Errorf("%s: detected %q", name, got)
		}
	}
}

func sines(level float64, ms int, freqs ...float64) []int16 {
	var pcm []int16
	for i := range ms * 8 {
		v := 0.0
		for _, f := range freqs {
			v += sinAt(f, i)
		}
		pcm = append(pcm, int16(v/float64(len(freqs))*32767*pow10(level/20)))
	}
	return pcm
}

// TestInbandTalkOff is the speech rejection proof: every speech sample, as
// received through both G.711 laws, at its own level and 6 dB hotter or
// 10 dB quieter, must yield no digit at all.
func TestInbandTalkOff(t *testing.T) {
	corpus := speechCorpus(t)
	total := 0
	for name, ulaw := range corpus {
		for _, db := range []float64{0, 6, -10} {
			for _, codec := range []Codec{PCMU, PCMA} {
				pcm := throughCodec(codec, gain(ulaw, db))
				total += len(pcm)
				if got := detect(pcm); got != "" {
					t.Errorf("%s at %+v dB via %v: false digits %q", name, db, codec, got)
				}
			}
		}
	}
	t.Logf("%d prompts, %.0f s of speech checked", len(corpus), float64(total)/8000)
}

func TestInbandDetectsDigitsMixedIntoSpeechPauses(t *testing.T) {
	// A caller answering a prompt: speech, then a key, then speech again.
	corpus := speechCorpus(t)
	var pcm []int16
	want := ""
	i := 0
	for name, ulaw := range corpus {
		if i == 4 {
			break
		}
		k := rune("1590"[i])
		pcm = append(pcm, PCMU.Decode(nil, ulaw[:min(len(ulaw), 8000)])...)
		pcm = append(pcm, silencePCM(40, uint64(i))...)
		pcm = append(pcm, tone{key: k, level: -15, ms: 80, snr: 20, seed: uint64(i)}.pcm()...)
		pcm = append(pcm, silencePCM(40, uint64(i))...)
		want += string(k)
		i++
		_ = name
	}
	if got := detect(throughCodec(PCMU, pcm)); got != want {
		t.Fatalf("detected %q, want %q", got, want)
	}
}

func ExampleParseINFO() {
	d, ok := ParseINFO("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	fmt.Println(string(d), ok)
	// Output: 5 true
}

// goertzelRef is the textbook single-filter Goertzel, to check the
// interleaved one against.
func goertzelRef(x *[toneBlock]float64, f float64) float64 {
	coef := 2 * math.Cos(2*math.Pi*f/8000)
	var s1, s2 float64
	for _, v := range x {
		s1, s2 = v+coef*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coef*s1*s2
}

func TestGoertzelMeasuresToneLevel(t *testing.T) {
	// A full-scale sine at a DTMF frequency reads as 0 dBFS.
	var x [toneBlock]float64
	for i := range x {
		x[i] = 32768 * sinAt(770, i)
	}
	db := 10 * math.Log10(goertzelRef(&x, 770)/fullScalePower)
	if db < -0.5 || db > 0.5 {
		t.Fatalf("full-scale 770 Hz reads %.2f dBFS", db)
	}
	// And the interleaved filters agree with the textbook one: '5' is
	// 770 Hz + 1336 Hz.
	for i := range x {
		x[i] = 16000*sinAt(770, i) + 16000*sinAt(1336, i)
	}
	if got := blockDigit(&x); got != '5' {
		t.Fatalf("blockDigit = %q", got)
	}
}
