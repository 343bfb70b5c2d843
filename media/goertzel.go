package media

import "math"

// In-band DTMF detection (ITU-T Q.24 style), tuned as Asterisk's dsp.c is:
// 102-sample blocks at 8 kHz (12.75 ms), so a 40 ms tone gives at least two
// whole blocks and a 40 ms pause at least three.
const (
	toneBlock = 102

	// dB limits, kept as power ratios.
	normalTwist  = 6.31 // 8 dB: the high (column) tone may be this much louder
	reverseTwist = 2.51 // 4 dB: the low (row) tone may be this much louder
	relativePeak = 6.31 // 8 dB over every other row / column frequency
	// The two tones must carry 80% of the block's energy. This is what
	// rejects speech, whose energy spreads over many harmonics: over the
	// talk-off corpus no block passes even at 50%, and false digits first
	// appear near 30%. A 2nd-harmonic test was tried and dropped: with
	// 78 Hz bins, 2×697 Hz lies inside the main lobe of 1336 Hz, so it
	// rejected genuine digits.
	toneToTotal = 0.80
	energyFloor = -45.0 // dBFS: the two tones together, against a full-scale sine

	hitsToBegin = 2
	missToEnd   = 3
)

var (
	rowFreqs = [4]float64{697, 770, 852, 941}
	colFreqs = [4]float64{1209, 1336, 1477, 1633}
	keypad   = [4][4]rune{
		{'1', '2', '3', 'A'},
		{'4', '5', '6', 'B'},
		{'7', '8', '9', 'C'},
		{'*', '0', '#', 'D'},
	}

	// Goertzel coefficients 2cos(2πf/fs) for the 8 tones.
	rowCoef, colCoef [4]float64

	// fullScalePower is the Goertzel power of a full-scale sine over one
	// block: (A·N/2)², the reference for dBFS.
	fullScalePower = math.Pow(32768*toneBlock/2, 2)
	floorPower     = fullScalePower * math.Pow(10, energyFloor/10)
)

func init() {
	for i := range 4 {
		rowCoef[i] = 2 * math.Cos(2*math.Pi*rowFreqs[i]/8000)
		colCoef[i] = 2 * math.Cos(2*math.Pi*colFreqs[i]/8000)
	}
}

// toneDetector finds DTMF in decoded received audio. It keeps no history
// beyond one block and the hit/miss counts, so it is fed packet by packet
// without allocating. Used by the session's poller only.
type toneDetector struct {
	block [toneBlock]float64
	n     int

	lastHit rune // the previous block's verdict
	hits    int
	current rune // the digit being held, 0 when none
	misses  int

	// onDigit is told of a press when its tone is confirmed; samplesAgo is
	// how far before the end of the fed audio the tone began.
	onDigit func(key rune, samplesAgo int)
}

func (d *toneDetector) feed(pcm []int16) {
	for i, s := range pcm {
		d.block[d.n] = float64(s)
		d.n++
		if d.n == toneBlock {
			d.n = 0
			d.decide(blockDigit(&d.block), len(pcm)-1-i)
		}
	}
}

func (d *toneDetector) decide(hit rune, after int) {
	if hit != 0 && hit == d.lastHit {
		d.hits++
	} else {
		d.hits = 1
	}
	d.lastHit = hit
	if d.current != 0 {
		if hit == d.current {
			d.misses = 0
			return
		}
		d.misses++
		if d.misses < missToEnd {
			return
		}
		d.current, d.misses = 0, 0
	}
	if hit != 0 && d.hits >= hitsToBegin {
		d.current = hit
		d.onDigit(hit, after+d.hits*toneBlock)
	}
}

// blockDigit is the verdict on one block: the key whose tone pair it holds,
// or 0.
func blockDigit(x *[toneBlock]float64) rune {
	// The eight filters run side by side over the samples: each filter is
	// a serial recurrence, so interleaving them lets the CPU overlap their
	// latencies (3x faster than one filter after another).
	var energy float64
	for _, v := range x {
		energy += v * v
	}
	// A filter's power |X(f)|² is at most N times the block's energy
	// (Cauchy-Schwarz), so the two tones together are at most 2N times
	// it: a block too quiet for that to reach the floor holds no digit,
	// and the filters are skipped. This is most blocks of a call (pauses,
	// background noise under -45 dBFS), and the verdict is the same as
	// the filters would give; the margin of 2 covers rounding.
	if 4*toneBlock*energy < floorPower {
		return 0
	}
	var r0, r1, r2, r3, c0, c1, c2, c3 [2]float64
	for _, v := range x {
		r0[0], r0[1] = v+rowCoef[0]*r0[0]-r0[1], r0[0]
		r1[0], r1[1] = v+rowCoef[1]*r1[0]-r1[1], r1[0]
		r2[0], r2[1] = v+rowCoef[2]*r2[0]-r2[1], r2[0]
		r3[0], r3[1] = v+rowCoef[3]*r3[0]-r3[1], r3[0]
		c0[0], c0[1] = v+colCoef[0]*c0[0]-c0[1], c0[0]
		c1[0], c1[1] = v+colCoef[1]*c1[0]-c1[1], c1[0]
		c2[0], c2[1] = v+colCoef[2]*c2[0]-c2[1], c2[0]
		c3[0], c3[1] = v+colCoef[3]*c3[0]-c3[1], c3[0]
	}
	rows := [4]float64{power(r0, rowCoef[0]), power(r1, rowCoef[1]), power(r2, rowCoef[2]), power(r3, rowCoef[3])}
	cols := [4]float64{power(c0, colCoef[0]), power(c1, colCoef[1]), power(c2, colCoef[2]), power(c3, colCoef[3])}
	r, c := 0, 0
	for i := 1; i < 4; i++ {
		if rows[i] > rows[r] {
			r = i
		}
		if cols[i] > cols[c] {
			c = i
		}
	}
	R, C := rows[r], cols[c]
	if R+C < floorPower {
		return 0
	}
	if C > R*normalTwist || R > C*reverseTwist {
		return 0
	}
	for i := range 4 {
		if i != r && rows[i]*relativePeak > R {
			return 0
		}
		if i != c && cols[i]*relativePeak > C {
			return 0
		}
	}
	// A sine of amplitude A has Goertzel power (A·N/2)² and block energy
	// N·A²/2, hence the N/2 between the two scales.
	if R+C < toneToTotal*energy*toneBlock/2 {
		return 0
	}
	return keypad[r][c]
}

// power is |X(f)|² from a Goertzel filter's final state {s1, s2}.
func power(s [2]float64, coef float64) float64 {
	return s[0]*s[0] + s[1]*s[1] - coef*s[0]*s[1]
}
