package sounds

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zaf/g711"
)

const rate = 8000

// allConstants lists every exported name so a constant without a file (or a
// typo in one) fails here rather than as silence in a call.
var allConstants = []string{
	EnterID, EnterPIN, LoggedInAs, LoggedOut, Invalid, TooMany, NotEnabled,
	Goodbye, YouPressed, PressKeys, EchoTest, NothingPressed, ViaRFC4733,
	ViaInband, ViaInfo, TryAgain, OutsideNotAllowed, OutsideUnavailable,
	Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8,
	Digit9, DigitStar, DigitPound,
	VMExtension, VMUnavailable, VMAfterTone, VMFull, VMMessageSaved, VMEnterMailbox, VMEnterPIN,
	VMInvalid, VMYouHave, VMNew, VMAnd, VMSaved, VMMessages, VMNoMessages, VMMainMenu,
	VMMessageMenu, VMMessage, VMReceived, VMToday, VMYesterday, VMAt, VMFrom,
	VMUnknownCaller, VMDeleted, VMMessageKept, VMNoMore, VMFirst, VMOptions,
	VMRecordGreeting, VMRecordName, VMRecorded, VMNewPIN, VMPINAgain, VMPINWeak,
	VMPINMismatch, VMPINChanged, VMInvalidOption,
}

func listedNames(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("prompts.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "|")
		if !ok {
			t.Fatalf("prompts.txt: no '|' in %q", line)
		}
		out = append(out, name)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestNamesMatchListAndConstants(t *testing.T) {
	names := Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() not sorted: %v", names)
	}
	if want := listedNames(t); !slices.Equal(names, want) {
		t.Errorf("embedded prompts %v\ndiffer from prompts.txt %v\n(rerun go generate ./sounds)", names, want)
	}
	consts := slices.Sorted(slices.Values(allConstants))
	if !slices.Equal(names, consts) {
		t.Errorf("embedded prompts %v\ndiffer from the constants %v", names, consts)
	}
	for _, n := range allConstants {
		if len(Ulaw(n)) == 0 {
			t.Errorf("Ulaw(%q) is empty", n)
		}
	}
	if Ulaw("no-such-prompt") != nil {
		t.Error("Ulaw of an unknown name is not nil")
	}
	// Names must hand out a copy: callers sorting or appending to it must
	// not disturb the package's list.
	names[0] = "x"
	if Names()[0] == "x" {
		t.Error("Names() returns the package's own slice")
	}
}

func decode(ul []byte) []float64 {
	out := make([]float64, len(ul))
	for i, b := range ul {
		out[i] = float64(g711.DecodeUlawFrame(b)) / 32768
	}
	return out
}

func dbfs(x float64) float64 { return 20 * math.Log10(x) }

func TestPromptsAreSaneAudio(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			s := decode(Ulaw(name))
			secs := float64(len(s)) / rate
			isDigit := strings.HasPrefix(name, "digit-")
			maxSecs := 6.0
			if isDigit {
				maxSecs = 0.55
			}
			if secs < 0.15 || secs > maxSecs {
				t.Errorf("duration %.3f s, want 0.15..%.2f s", secs, maxSecs)
			}

			var sum, peak float64
			run, longest := 0, 0
			for _, v := range s {
				a := math.Abs(v)
				sum += v * v
				peak = max(peak, a)
				// µ-law's top code decodes to 32124/32768; a run of samples
				// there means the waveform was flattened.
				if a >= 32000.0/32768 {
					run++
					longest = max(longest, run)
				} else {
					run = 0
				}
			}
			rms := math.Sqrt(sum / float64(len(s)))
			if dbfs(rms) < -30 {
				t.Errorf("RMS %.1f dBFS: too quiet or silent", dbfs(rms))
			}
			if longest >= 2 {
				t.Errorf("clipped: %d consecutive full-scale samples", longest)
			}
			// make-prompts.sh normalises to -3 dBFS peak; µ-law quantisation
			// moves that by a fraction of a dB.
			if p := dbfs(peak); p < -4.5 || p > -1.5 {
				t.Errorf("peak %.2f dBFS, want about -3", p)
			}

			// Leading and trailing silence must be trimmed, or prompts
			// chained together leave awkward pauses. Digits keep a short
			// deliberate tail (DIGIT_GAP in the script).
			const quiet = 0.01 // -40 dBFS
			lead := slices.IndexFunc(s, func(v float64) bool { return math.Abs(v) > quiet })
			tail := len(s) - 1 - lastIndexFunc(s, func(v float64) bool { return math.Abs(v) > quiet })
			if ms := lead * 1000 / rate; ms > 30 {
				t.Errorf("%d ms of leading silence", ms)
			}
			maxTail := 40
			if isDigit {
				maxTail = 100
			}
			if ms := tail * 1000 / rate; ms > maxTail {
				t.Errorf("%d ms of trailing silence, want <= %d", ms, maxTail)
			}
		})
	}
}

func lastIndexFunc(s []float64, f func(float64) bool) int {
	for i := len(s) - 1; i >= 0; i-- {
		if f(s[i]) {
			return i
		}
	}
	return -1
}

func TestDigit(t *testing.T) {
	want := map[rune]string{
		'0': Digit0, '1': Digit1, '2': Digit2, '3': Digit3, '4': Digit4,
		'5': Digit5, '6': Digit6, '7': Digit7, '8': Digit8, '9': Digit9,
		'*': DigitStar, '#': DigitPound,
	}
	for r, name := range want {
		got := Digit(r)
		if got == nil || !bytes.Equal(got, Ulaw(name)) {
			t.Errorf("Digit(%q) is not prompt %q", r, name)
		}
	}
	for _, r := range []rune{'A', 'D', 'a', ' ', 0, '٣', 'x'} {
		if Digit(r) != nil {
			t.Errorf("Digit(%q) = non-nil, want nil", r)
		}
	}
}

// The versions the committed prompts were made with (see make-prompts.sh).
// Other versions synthesise different samples, so comparing bytes would
// only measure the version difference.
const (
	madeWithEspeak = "1.51"
	madeWithSox    = "v14.4.2"
)

func toolVersion(t *testing.T, re string, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	m := regexp.MustCompile(re).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("cannot find a version in %q", out)
	}
	return m[1]
}

func TestScriptIsDeterministic(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not running make-prompts.sh")
	}
	for _, tool := range []string{"espeak-ng", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed, so make-prompts.sh cannot be checked for reproducibility; "+
				"install the Debian packages espeak-ng and sox (CI should) to run this test", tool)
		}
	}
	ev := toolVersion(t, `text-to-speech: (\S+)`, "espeak-ng", "--version")
	sv := toolVersion(t, `SoX (v\S+)`, "sox", "--version")
	if ev != madeWithEspeak || sv != madeWithSox {
		t.Skipf("espeak-ng %s / sox %s installed, but the committed prompts were made with espeak-ng %s / sox %s: "+
			"bytes cannot match across versions", ev, sv, madeWithEspeak, madeWithSox)
	}

	dir := t.TempDir()
	cmd := exec.Command("sh", "make-prompts.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make-prompts.sh: %v\n%s", err, out)
	}
	fresh, err := filepath.Glob(filepath.Join(dir, "*.ul"))
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != len(Names()) {
		t.Errorf("script made %d prompts, %d are committed", len(fresh), len(Names()))
	}
	for _, f := range fresh {
		name := strings.TrimSuffix(filepath.Base(f), ".ul")
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, Ulaw(name)) {
			t.Errorf("%s: regenerated bytes differ from the committed file (%d vs %d bytes)", name, len(b), len(Ulaw(name)))
		}
	}
}
