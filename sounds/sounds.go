// Package sounds holds the PBX's voice prompts: 8 kHz mono G.711 µ-law,
// raw with no header, so they can go into RTP payloads without decoding.
//
// The prompts are synthesised by make-prompts.sh from prompts.txt and the
// output is committed, so building the PBX needs neither espeak-ng nor sox.
package sounds

//go:generate sh make-prompts.sh

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Prompt names. Each is the base name of a file prompts/NAME.ul.
const (
	EnterID        = "enter-id"
	EnterPIN       = "enter-pin"
	LoggedInAs     = "logged-in-as" // "...as extension": follow with digits
	LoggedOut      = "logged-out"
	Invalid        = "invalid"
	TooMany        = "too-many"
	NotEnabled     = "not-enabled"
	Goodbye        = "goodbye"
	YouPressed     = "you-pressed" // follow with digits
	PressKeys      = "press-keys"
	EchoTest       = "echo-test"
	NothingPressed = "nothing-pressed"
	ViaRFC4733     = "via-rfc4733"
	ViaInband      = "via-inband"
	ViaInfo        = "via-info"
	TryAgain       = "try-again"

	// Voicemail.
	VMExtension      = "vm-extension"   // "extension": follow with digits
	VMUnavailable    = "vm-unavailable" // after "extension" + digits, or a recorded name
	VMAfterTone      = "vm-after-tone"
	VMFull           = "vm-full"
	VMMessageSaved   = "vm-message-saved"
	VMEnterMailbox   = "vm-enter-mailbox"
	VMEnterPIN       = "vm-enter-pin"
	VMInvalid        = "vm-invalid"
	VMYouHave        = "vm-you-have" // + count + "new" + "and" + count + "saved" + "messages"
	VMNew            = "vm-new"
	VMAnd            = "vm-and"
	VMSaved          = "vm-saved"
	VMMessages       = "vm-messages"
	VMNoMessages     = "vm-no-messages"
	VMMainMenu       = "vm-main-menu"
	VMMessageMenu    = "vm-message-menu"
	VMMessage        = "vm-message" // + number: the envelope
	VMReceived       = "vm-received"
	VMToday          = "vm-today"
	VMYesterday      = "vm-yesterday"
	VMAt             = "vm-at"
	VMFrom           = "vm-from" // + digits
	VMUnknownCaller  = "vm-unknown-caller"
	VMDeleted        = "vm-deleted"
	VMMessageKept    = "vm-message-kept"
	VMNoMore         = "vm-no-more"
	VMFirst          = "vm-first"
	VMOptions        = "vm-options"
	VMRecordGreeting = "vm-record-greeting"
	VMRecordName     = "vm-record-name"
	VMRecorded       = "vm-recorded"
	VMNewPIN         = "vm-new-pin"
	VMPINAgain       = "vm-pin-again"
	VMPINWeak        = "vm-pin-weak"
	VMPINMismatch    = "vm-pin-mismatch"
	VMPINChanged     = "vm-pin-changed"
	VMInvalidOption  = "vm-invalid-option"

	OutsideNotAllowed  = "outside-not-allowed" // an outside call the extension may not make
	OutsideUnavailable = "outside-unavailable" // the trunk is down

	Digit0     = "digit-0"
	Digit1     = "digit-1"
	Digit2     = "digit-2"
	Digit3     = "digit-3"
	Digit4     = "digit-4"
	Digit5     = "digit-5"
	Digit6     = "digit-6"
	Digit7     = "digit-7"
	Digit8     = "digit-8"
	Digit9     = "digit-9"
	DigitStar  = "digit-star"
	DigitPound = "digit-pound"
)

//go:embed prompts/*.ul
var files embed.FS

var (
	names   []string
	prompts = map[string][]byte{}
)

func init() {
	// Read once at start so Ulaw is a map lookup on the call path and a
	// missing or unreadable file shows up at startup, not mid-call.
	entries, err := fs.ReadDir(files, "prompts")
	if err != nil {
		panic("sounds: " + err.Error())
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".ul")
		if !ok {
			continue
		}
		b, err := files.ReadFile(path.Join("prompts", e.Name()))
		if err != nil {
			panic("sounds: " + err.Error())
		}
		prompts[name] = b
		names = append(names, name)
	}
	sort.Strings(names)
}

// Names returns every prompt name, sorted.
func Names() []string {
	return append([]string(nil), names...)
}

// Ulaw returns the µ-law samples of the named prompt, or nil if there is
// none. The slice is shared: callers must not modify it.
func Ulaw(name string) []byte {
	return prompts[name]
}

// Digit returns the prompt that speaks a keypad key ('0'-'9', '*', '#'), or
// nil for any other rune. Digit prompts end in a short silence so that
// concatenating them reads a number out naturally.
func Digit(d rune) []byte {
	switch {
	case d >= '0' && d <= '9':
		return prompts["digit-"+string(d)]
	case d == '*':
		return prompts[DigitStar]
	case d == '#':
		return prompts[DigitPound]
	}
	return nil
}

// Number reads a number out key by key ("1001": one zero zero one),
// skipping anything that is not a key.
func Number(number string) [][]byte {
	out := make([][]byte, 0, len(number))
	for _, d := range number {
		if p := Digit(d); p != nil {
			out = append(out, p)
		}
	}
	return out
}
