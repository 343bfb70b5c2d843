package sip

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// deskpbx patch: the states are numbers that step dispatches with a
// switch, not functions called through a value: an indirect call made
// the *Uri escape, so the Request-URI of every message was allocated.
type uriFSM uint8

const (
	uriDone uriFSM = iota
	uriScheme
	uriSlashes
	uriUser
	uriHost
	uriHostIPV6
	uriPort
	uriParams
	uriHeaders
)

func (st uriFSM) step(uri *Uri, s string, a *msgArena) (uriFSM, string, error) {
	switch st {
	case uriScheme:
		return uriStateScheme(uri, s)
	case uriSlashes:
		return uriStateSlashes(uri, s)
	case uriUser:
		return uriStateUser(uri, s)
	case uriHost:
		return uriStateHost(uri, s)
	case uriHostIPV6:
		return uriStateHostIPV6(uri, s)
	case uriPort:
		return uriStatePort(uri, s)
	case uriParams:
		return uriStateUriParams(uri, s, a)
	case uriHeaders:
		return uriStateHeaders(uri, s, a)
	}
	return uriDone, s, nil
}

// ParseUri converts a string representation of a URI into a Uri object. SIP
// and SIPS URIs are parsed according to RFC 3261 section 19.1.1. For every
// other scheme, the scheme-specific part is available through [Uri.Raw].
func ParseUri(uriStr string, uri *Uri) (err error) {
	return parseUri(uriStr, uri, nil)
}

// parseUri is ParseUri with the parameters in a, when not nil (deskpbx
// patch).
func parseUri(uriStr string, uri *Uri, a *msgArena) (err error) {
	if len(uriStr) == 0 {
		return errors.New("empty URI")
	}
	state := uriScheme
	str := uriStr
	for state != uriDone {
		state, str, err = state.step(uri, str, a)
		if err != nil {
			return
		}
	}
	return
}

func uriStateScheme(uri *Uri, s string) (uriFSM, string, error) {
	// Do fast checks. Minimum uri
	if len(s) < 3 {
		if s == "*" {
			// Normally this goes under url path, but we set on host
			uri.Host = "*"
			uri.Wildcard = true
			return uriDone, "", nil
		}
		return uriDone, "", fmt.Errorf("not valid sip uri")
	}

	for i, c := range s {
		if c == ':' {
			uri.Scheme = ASCIIToLower(s[:i])
			if uri.Scheme != "sip" && uri.Scheme != "sips" {
				// Only SIP and SIPS URIs use the user, host, port, URI
				// parameters and headers grammar below. Keep the
				// scheme-specific part of every other URI uninterpreted so
				// that custom schemes can be handled by the application.
				uri.raw = s[i+1:]
				return uriDone, "", nil
			}
			return uriSlashes, s[i+1:], nil
		}
		// deskpbx patch: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
		// (RFC 3261 §25.1), so soap.beep: is a scheme, not an error.
		if !isASCII(c) && (i == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return uriDone, "", fmt.Errorf("invalid uri scheme")
		}
	}

	return uriDone, "", fmt.Errorf("missing protocol scheme")
}

func uriStateSlashes(uri *Uri, s string) (uriFSM, string, error) {
	// Check does uri contain slashes
	// They are valid in uri but normally we cut them
	s, uri.HierarhicalSlashes = strings.CutPrefix(s, "//")
	return uriUser, s, nil
}

func uriStateUser(uri *Uri, s string) (uriFSM, string, error) {
	var userend int = 0
	for i, c := range s {
		if c == '[' {
			// IPV6
			return uriHost, s[i:], nil
		}

		if c == ':' {
			userend = i
		}

		if c == '@' {
			if userend > 0 {
				uri.User = s[:userend]
				uri.Password = s[userend+1 : i]
			} else {
				uri.User = s[:i]
			}
			return uriHost, s[i+1:], nil
		}
	}

	return uriHost, s, nil
}

func uriStateHost(uri *Uri, s string) (uriFSM, string, error) {
	for i, c := range s {
		if c == '[' {
			return uriHostIPV6, s[i:], nil
		}

		if c == ':' {
			uri.Host = s[:i]
			return uriPort, s[i+1:], nil
		}

		if c == ';' {
			uri.Host = s[:i]
			return uriParams, s[i+1:], nil
		}

		if c == '?' {
			uri.Host = s[:i]
			return uriHeaders, s[i+1:], nil
		}
	}
	// If no special chars found, it means we are at end
	uri.Host = s
	// Check is this wildcard
	uri.Wildcard = s == "*"
	return uriParams, "", nil
}

func uriStateHostIPV6(uri *Uri, s string) (uriFSM, string, error) {
	// ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff max 39 + 2 brackets
	// Do not waste time looking end
	maxs := min(len(s), 42)

	ind := strings.Index(s[:maxs], "]")
	if ind <= 0 {
		return uriDone, s, fmt.Errorf("IPV6 no closing bracket")
	}
	uri.Host = s[:ind+1]

	if ind+1 == len(s) {
		// finished
		return uriParams, "", nil
	}

	s = s[ind+1:]

	// Check now termination
	c := s[0]
	if c == ':' {
		return uriPort, s[1:], nil
	}

	if c == ';' {
		return uriParams, s[1:], nil
	}

	if c == '?' {
		return uriHeaders, s[1:], nil
	}

	return uriParams, "", nil
}

func uriStatePort(uri *Uri, s string) (uriFSM, string, error) {
	var err error
	for i, c := range s {
		if c == ';' {
			uri.Port, err = strconv.Atoi(s[:i])
			return uriParams, s[i+1:], err
		}

		if c == '?' {
			uri.Port, err = strconv.Atoi(s[:i])
			return uriHeaders, s[i+1:], err
		}
	}

	uri.Port, err = strconv.Atoi(s)
	return uriParams, "", err
}

func uriStateUriParams(uri *Uri, s string, a *msgArena) (uriFSM, string, error) {
	var n int
	var err error
	if len(s) == 0 {
		uri.UriParams = nil
		uri.Headers = nil
		return uriDone, s, nil
	}
	if a == nil {
		uri.UriParams = NewParams()
	} else {
		uri.UriParams = a.params()
	}
	// uri.UriParams, n, err = ParseParams(s, 0, ';', '?', true, true)
	n, err = UnmarshalHeaderParams(s, ';', '?', &uri.UriParams)
	if a != nil {
		// Not nil even when empty, as NewParams.
		if uri.UriParams = a.keep(uri.UriParams); uri.UriParams == nil {
			uri.UriParams = HeaderParams{}
		}
	}
	if err != nil {
		return uriDone, s, err
	}

	if n == len(s) {
		n = n - 1
	}

	if s[n] != '?' {
		return uriDone, s, nil
	}

	return uriHeaders, s[n+1:], nil
}

func uriStateHeaders(uri *Uri, s string, a *msgArena) (uriFSM, string, error) {
	var err error
	// uri.Headers, _, err = ParseParams(s, 0, '&', 0, true, false)
	uri.Headers = a.params()
	_, err = UnmarshalHeaderParams(s, '&', 0, &uri.Headers)
	uri.Headers = a.keep(uri.Headers)
	return uriDone, s, err
}
