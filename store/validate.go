package store

import (
	"net"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidDomain checks a tenant domain: a DNS name, not an IP address
// (requests addressed to an IP belong to the default tenant).
func ValidDomain(domain string) error {
	if domain == "" {
		return invalidf("domain", "domain is empty")
	}
	if len(domain) > 253 {
		return invalidf("domain", "domain %.40q… is longer than 253 characters", domain)
	}
	if net.ParseIP(domain) != nil {
		return invalidf("domain", "domain %q is an IP address; requests to an IP address belong to the default tenant", domain)
	}
	for _, label := range strings.Split(domain, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return invalidf("domain", "domain %q is not a valid DNS name", domain)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return invalidf("domain", "domain %q is not a valid DNS name (lower-case letters, digits, '-' and '.')", domain)
			}
		}
	}
	return nil
}

// ValidNumber checks an extension number: 1 to 15 digits.
func ValidNumber(number string) error {
	if number == "" {
		return invalidf("number", "extension number is empty")
	}
	if len(number) > 15 {
		return invalidf("number", "extension number %q is longer than 15 digits", number)
	}
	for _, c := range number {
		if c < '0' || c > '9' {
			return invalidf("number", "extension number %q must be digits only", number)
		}
	}
	return nil
}

// ValidPassword checks a SIP password.
func ValidPassword(pw string) error {
	if pw == "" {
		return invalidf("password", "password is empty")
	}
	if len(pw) < 6 {
		return invalidf("password", "password is shorter than 6 characters")
	}
	if len(pw) > 128 {
		return invalidf("password", "password is longer than 128 characters")
	}
	digits, same := true, true
	for _, c := range pw {
		if c < 0x20 || c == 0x7f {
			return invalidf("password", "password contains a control character")
		}
		digits = digits && c >= '0' && c <= '9'
		same = same && c == rune(pw[0])
	}
	// This rule holds for every way a SIP password comes in (CLI, CSV
	// import, admin page, API): digest can be brute-forced offline from one
	// captured REGISTER, and these fall first. The admin page asks more of
	// a typed password (StrongSIPPassword).
	switch {
	case digits && len(pw) < 10:
		return Errorf(EINVALID, "password is digits only and shorter than 10; choose a less guessable one")
	case same:
		return Errorf(EINVALID, "password is one repeated character; choose a less guessable one")
	case slices.Contains(commonWords, strings.ToLower(pw)):
		return Errorf(EINVALID, "password is one of the first words attackers try")
	}
	return nil
}

// ValidPIN checks a numeric PIN and refuses the guessable ones: shorter
// than 4 digits, one repeated digit, or a straight run (1234, 9876).
// Callers add the context-specific checks (not equal to the extension).
func ValidPIN(pin string) error {
	if pin == "" {
		return invalidf("pin", "PIN is empty")
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return invalidf("pin", "PIN must be digits only")
		}
	}
	if len(pin) < 4 {
		return invalidf("pin", "PIN is shorter than 4 digits")
	}
	if len(pin) > 15 {
		return invalidf("pin", "PIN is longer than 15 digits")
	}
	same, up, down := true, true, true
	for i := 1; i < len(pin); i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && (d == 1 || d == -9)
		down = down && (d == -1 || d == 9)
	}
	switch {
	case same:
		return invalidf("pin", "PIN is one repeated digit; choose a less guessable one")
	case up || down:
		return invalidf("pin", "PIN is a straight run of digits; choose a less guessable one")
	case slices.Contains(commonPINs, pin):
		return invalidf("pin", "PIN is one of the first a guesser tries; choose a less guessable one")
	}
	return nil
}

// CompanyPINDigits is the shortest company PIN that can be set. Every
// hot-desk ID of a tenant logs in with it, so one guess tries them all.
// Shorter PINs set before this rule keep working.
const CompanyPINDigits = 6

// ValidCompanyPIN is ValidPIN for a tenant's company PIN, which must also
// be CompanyPINDigits long.
func ValidCompanyPIN(pin string) error {
	if err := ValidPIN(pin); err != nil {
		return invalidf("company_pin", "company %s", err.Error())
	}
	if len(pin) < CompanyPINDigits {
		return invalidf("company_pin", "company PIN is shorter than %d digits", CompanyPINDigits)
	}
	return nil
}

// commonPINs are the PINs guessers try first (the top of published PIN
// frequency lists, keypad patterns, dates) that the repeat and run rules
// of ValidPIN do not already catch. One list for every PIN: company PINs,
// own hot-desk passwords, voicemail PINs, whoever sets them.
var commonPINs = []string{
	"1212", "1122", "1313", "2580", "0852", "1379", "6969", "4545", "7777",
	"121212", "123123", "112233", "159753", "654321", "696969", "131313", "101010", "102030", "147258",
	"258369", "159357", "147852", "246810", "123321", "112211", "789456", "852456", "456123", "520520",
	"1234567", "7777777", "12345678", "11223344", "12341234", "87654321", "123456789", "1234567890",
}

// CleanDisplayName rejects what must never reach a SIP header: line breaks
// and other control characters (header injection), quotes and backslashes
// (they would end the quoted display-name), and invalid UTF-8.
func CleanDisplayName(name string) (string, error) {
	return cleanText(name, "name", 64, "quotes, backslashes or control characters", func(r rune) bool {
		return unicode.IsControl(r) || r == '"' || r == '\\'
	})
}

// CleanDescription checks the free text an admin gives a hot-desk entry
// and returns it trimmed: at most 200 characters, no control characters.
func CleanDescription(s string) (string, error) {
	return cleanText(s, "description", 200, "control characters", unicode.IsControl)
}

// cleanText returns s trimmed if it is valid UTF-8 of at most max
// characters with none that refused reports (described as what).
func cleanText(s, field string, max int, what string, refused func(rune) bool) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", invalidf(field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", invalidf(field, "%s is longer than %d characters", field, max)
	}
	if strings.IndexFunc(s, refused) >= 0 {
		return "", invalidf(field, "%s may not contain %s", field, what)
	}
	return s, nil
}
