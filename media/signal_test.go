package media

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Real test signals: DTMF as the sum of two sines, white noise from a fixed
// seed, quantised through G.711 like anything that crosses the network.

var keyFreqs = map[rune][2]float64{}

func init() {
	for r, row := range keypad {
		for c, key := range row {
			keyFreqs[key] = [2]float64{rowFreqs[r], colFreqs[c]}
		}
	}
}

// tone describes one generated key press. level is the peak of the two
// summed sines in dBFS, so no level clips; twist is the column (high) tone
// over the row (low) tone in dB, negative for reverse twist.
type tone struct {
	key     rune
	level   float64
	twist   float64
	ms      int
	snr     float64 // dB of the tone pair's power over the noise; 0: no noise
	seed    uint64
	offsetF float64 // frequency error, e.g. 0.015 for +1.5%
}

func (t tone) pcm() []int16 {
	f := keyFreqs[t.key]
	peak := 32767 * math.Pow(10, t.level/20)
	hi := math.Pow(10, t.twist/20)
	aLow := peak / (1 + hi)
	aHigh := peak - aLow
	n := t.ms * 8
	var noise float64
	if t.snr > 0 {
		power := (aLow*aLow + aHigh*aHigh) / 2
		noise = math.Sqrt(power / math.Pow(10, t.snr/10))
	}
	rng := rand.New(rand.NewPCG(t.seed, 42))
	out := make([]int16, n)
	for i := range out {
		x := float64(i) / 8000
		v := aLow*math.Sin(2*math.Pi*f[0]*(1+t.offsetF)*x) + aHigh*math.Sin(2*math.Pi*f[1]*(1+t.offsetF)*x+1)
		v += noise * rng.NormFloat64()
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}

// silencePCM is low-level noise, not digital zero, as a line really is.
func silencePCM(ms int, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]int16, ms*8)
	for i := range out {
		out[i] = int16(rng.NormFloat64() * 8)
	}
	return out
}

// throughCodec encodes and decodes pcm, as the detector only ever sees
// G.711 that came over RTP.
func throughCodec(c Codec, pcm []int16) []int16 {
	return c.Decode(nil, c.Encode(nil, pcm))
}

// speechCorpus is every speech sample the talk-off tests run over: the
// espeak-ng recordings in testdata (see testdata/speech.sh) plus the
// project's own prompts once package sounds provides them (see
// projectPrompts).
func speechCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob("testdata/speech-*.ulaw")
	if err != nil || len(files) == 0 {
		t.Fatalf("no speech in testdata: %v", err)
	}
	corpus := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		corpus[filepath.Base(f)] = b
	}
	for name, b := range projectPrompts() {
		corpus["sounds/"+name] = b
	}
	return corpus
}

// gain scales µ-law speech in the linear domain, clipping like a real
// channel would.
func gain(ulaw []byte, db float64) []int16 {
	g := math.Pow(10, db/20)
	pcm := PCMU.Decode(nil, ulaw)
	for i, v := range pcm {
		pcm[i] = int16(max(-32768, min(32767, math.Round(float64(v)*g))))
	}
	return pcm
}

func sinAt(f float64, i int) float64 { return math.Sin(2 * math.Pi * f * float64(i) / 8000) }
func pow10(x float64) float64        { return math.Pow(10, x) }
