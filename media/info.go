package media

import (
	"bytes"
	"mime"
	"strconv"
	"strings"
)

// ParseINFO reads a DTMF digit from a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160", the Cisco format most phones use) or
// application/dtmf (the bare key). Event numbers 10-15 are accepted for
// * # A-D, as some phones send them that way. ok is false for anything
// else, including flash hook (16), which pbx should answer 200 and ignore.
func ParseINFO(contentType string, body []byte) (digit rune, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, false
	}
	switch mt {
	case "application/dtmf-relay":
		for _, line := range bytes.Split(body, []byte("\n")) {
			k, v, found := bytes.Cut(line, []byte("="))
			if !found || !strings.EqualFold(string(bytes.TrimSpace(k)), "signal") {
				continue
			}
			return parseKey(string(bytes.TrimSpace(v)))
		}
		return 0, false
	case "application/dtmf":
		return parseKey(string(bytes.TrimSpace(body)))
	}
	return 0, false
}

func parseKey(s string) (rune, bool) {
	if len(s) == 1 {
		r := rune(s[0])
		if r >= 'a' && r <= 'd' {
			r -= 'a' - 'A'
		}
		if validKey(r) {
			return r, true
		}
		return 0, false
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n < len(eventKeys) {
		return rune(eventKeys[n]), true
	}
	return 0, false
}
