package sip

import (
	"errors"
	"fmt"
	"strings"
)

type nameAddress struct {
	displayName  string
	uri          *Uri
	headerParams *HeaderParams
	arena        *msgArena // deskpbx patch: where parameters go, when not nil
}

// deskpbx patch: numbered states dispatched by step's switch, not
// functions called through a value, which made every nameAddress (one
// per From, To and Contact) escape to the heap.
type addressFSM uint8

const (
	addrDone addressFSM = iota
	addrDisplayName
	addrDisplayNameQuoted
	addrUriBracket
	addrUri
	addrHeaderParams
)

func (st addressFSM) step(a *nameAddress, s string) (addressFSM, string, error) {
	switch st {
	case addrDisplayName:
		return addressStateDisplayName(a, s)
	case addrDisplayNameQuoted:
		return addressStateDisplayNameQuoted(a, s)
	case addrUriBracket:
		return addressStateUriBracket(a, s)
	case addrUri:
		return addressStateUri(a, s)
	case addrHeaderParams:
		return addressStateHeaderParams(a, s)
	}
	return addrDone, s, nil
}

// ParseAddressValue parses an address - such as from a From, To, or
// Contact header. It returns:
// See RFC 3261 section 20.10 for details on parsing an address.
func ParseAddressValue(addressText string, uri *Uri, headerParams *HeaderParams) (displayName string, err error) {
	return parseAddressValue(addressText, uri, headerParams, nil)
}

// parseAddressValue is ParseAddressValue with the parameters, the URI's
// and the header's, in arena when not nil (deskpbx patch).
func parseAddressValue(addressText string, uri *Uri, headerParams *HeaderParams, arena *msgArena) (displayName string, err error) {
	if len(addressText) == 0 {
		return "", errors.New("Empty Address")
	}

	// adds alloc but easier to maintain
	a := nameAddress{
		uri:          uri,
		headerParams: headerParams,
		arena:        arena,
	}

	err = parseNameAddress(addressText, &a)
	displayName = a.displayName
	return
}

// parseNameAddress
// name-addr      =  [ display-name ] LAQUOT addr-spec RAQUOT
// addr-spec      =  SIP-URI / SIPS-URI / absoluteURI
func parseNameAddress(addressText string, a *nameAddress) (err error) {
	state := addrDisplayName
	str := addressText
	for state != addrDone {
		state, str, err = state.step(a, str)
		if err != nil {
			return
		}
	}
	return nil
}

func addressStateDisplayName(a *nameAddress, s string) (addressFSM, string, error) {
	for i, c := range s {
		if c == '"' {
			return addrDisplayNameQuoted, s[i+1:], nil
		}

		// https://datatracker.ietf.org/doc/html/rfc3261#section-20.10
		// When the header field value contains a display name, the URI
		// including all URI parameters is enclosed in "<" and ">".  If no "<"
		// and ">" are present, all parameters after the URI are header
		// parameters, not URI parameters.
		if c == '<' {
			a.displayName = strings.TrimSpace(s[:i])
			return addrUriBracket, s[i+1:], nil
		}

		if c == ';' {
			// detect early
			// uri can be without <> in that case there all after ; are header params
			return addrUri, s, nil
		}
	}

	// No DisplayName found
	return addrUri, s, nil
}

func addressStateDisplayNameQuoted(a *nameAddress, s string) (addressFSM, string, error) {
	var escaped bool
	for i, c := range s {
		if c == '\\' {
			// https://datatracker.ietf.org/doc/html/rfc3261#section-25.1
			// The backslash character ("\") MAY be used as a single-character
			// quoting mechanism only within quoted-string and comment constructs.
			escaped = !escaped
			continue
		}

		if escaped {
			if c == 0xA || c == 0x0D {
				// quoted-pair  =  "\" (%x00-09 / %x0B-0C / %x0E-7F)
				return addrDone, s, fmt.Errorf("invalid display name, not allowed to escape '0x%02X' in '%s'", c, s)
			}
			escaped = false
			continue
		}

		if c == '"' {
			a.displayName = s[:i]
			s = s[i+1:]
			for i, c := range s {
				if c == '<' {
					return addrUriBracket, s[i+1:], nil
				}

				if c == ';' {
					return addrUri, s[i+1:], nil
				}
			}
			return addrDone, s, fmt.Errorf("no uri after display name")
		}
	}

	return addrDone, s, fmt.Errorf("invalid uri display name inside quotes")
}

func addressStateUriBracket(a *nameAddress, s string) (addressFSM, string, error) {
	if len(s) == 0 {
		return addrDone, s, errors.New("No URI present")
	}

	// deskpbx patch: the first '>' byte is the first '>' rune (no byte
	// of a multi-byte UTF-8 sequence is ASCII), found without decoding.
	if i := strings.IndexByte(s, '>'); i >= 0 {
		err := parseUri(s[:i], a.uri, a.arena)
		return addrHeaderParams, s[i+1:], err
	}
	return addrDone, s, fmt.Errorf("invalid uri, missing end bracket")
}

func addressStateUri(a *nameAddress, s string) (addressFSM, string, error) {
	if len(s) == 0 {
		return addrDone, s, errors.New("No URI present")
	}

	for i, c := range s {
		if c == ';' {
			err := parseUri(s[:i], a.uri, a.arena)
			return addrHeaderParams, s[i+1:], err
		}
	}

	// No header params detected
	err := parseUri(s, a.uri, a.arena)
	return addrDone, s, err
}

func addressStateHeaderParams(a *nameAddress, s string) (addressFSM, string, error) {

	addParam := func(equal int, s string) {
		// The header's parameters take the arena's spare room only
		// now, after the URI's parameters took theirs.
		if a.arena != nil && a.headerParams != nil && *a.headerParams == nil {
			*a.headerParams = a.arena.params()
		}

		if equal > 0 {
			name := s[:equal]
			val := s[equal+1:]
			if a.headerParams != nil {
				a.headerParams.Add(name, val)
			}
			return
		}

		if len(s) == 0 {
			// could be just ;
			return
		}

		// Case when we have key name but not value. ex ;+siptag;
		name := s[:]
		if a.headerParams != nil {
			a.headerParams.Add(name, "")
		}
	}

	equal := -1
	for i, c := range s {
		if c == '=' {
			equal = i
			continue
		}

		if c == ';' {
			addParam(equal, s[:i])
			return addrHeaderParams, s[i+1:], nil
		}
	}

	addParam(equal, s)
	return addrDone, s, nil
}

// headerParserTo generates ToHeader
func headerParserTo(headerName []byte, headerText string) (header Header, err error) {
	h := &ToHeader{}
	return h, parseToHeader(headerText, h)
}

func parseToHeader(headerText string, h *ToHeader) error {
	return parseTo(headerText, h, nil)
}

// parseTo is parseToHeader with the parameters in a, when not nil
// (deskpbx patch; so are parseFrom, parseContact and parseReferredBy).
func parseTo(headerText string, h *ToHeader, a *msgArena) error {
	var err error

	h.Params = nil
	h.DisplayName, err = parseAddressValue(headerText, &h.Address, &h.Params, a)
	h.Params = a.keep(h.Params)
	if err != nil {
		return err
	}

	if h.Address.Wildcard {
		// The Wildcard '*' URI is only permitted in Contact headers.
		err = fmt.Errorf(
			"wildcard uri not permitted in to: header: %s",
			headerText,
		)
		return err
	}
	return nil
}

// headerParserFrom generates FromHeader
func headerParserFrom(headerName []byte, headerText string) (header Header, err error) {
	h := &FromHeader{}
	return h, parseFromHeader(headerText, h)
}

func parseFromHeader(headerText string, h *FromHeader) error {
	return parseFrom(headerText, h, nil)
}

func parseFrom(headerText string, h *FromHeader, a *msgArena) error {
	var err error

	h.Params = nil
	h.DisplayName, err = parseAddressValue(headerText, &h.Address, &h.Params, a)
	h.Params = a.keep(h.Params)
	// h.DisplayName, h.Address, h.Params, err = ParseAddressValue(headerText)
	if err != nil {
		return err
	}

	if h.Address.Wildcard {
		// The Wildcard '*' URI is only permitted in Contact headers.
		err = fmt.Errorf(
			"wildcard uri not permitted in to: header: %s",
			headerText,
		)
		return err
	}
	return nil
}

func headerParserContact(headerName []byte, headerText string) (header Header, err error) {
	h := ContactHeader{}
	return &h, parseContactHeader(headerText, &h)
}

// parseContactHeader generates ContactHeader
func parseContactHeader(headerText string, h *ContactHeader) error {
	return parseContact(headerText, h, nil)
}

func parseContact(headerText string, h *ContactHeader, a *msgArena) error {
	inBrackets := false
	inQuotes := false

	endInd := len(headerText)
	end := endInd - 1

	var err error
	for idx, char := range headerText {
		if char == '<' && !inQuotes {
			inBrackets = true
		} else if char == '>' && !inQuotes {
			inBrackets = false
		} else if char == '"' {
			inQuotes = !inQuotes
		} else if !inQuotes && !inBrackets {
			switch {
			case char == ',':
				endInd = idx
				err = errComaDetected(idx)
			case idx == end:
				endInd = idx + 1
			default:
				continue
			}

			break
		}
	}

	var e error
	h.Params = nil
	h.DisplayName, e = parseAddressValue(headerText[:endInd], &h.Address, &h.Params, a)
	h.Params = a.keep(h.Params)
	if e != nil {
		return e
	}

	return err
}

func headerParserRoute(headerName []byte, headerText string) (header Header, err error) {
	// Append a comma to simplify the parsing code; we split address sections
	// on commas, so use a comma to signify the end of the final address section.
	h := RouteHeader{}
	return &h, parseRouteHeader(headerText, &h)
}

// parseRouteHeader parser RouteHeader
func parseRouteHeader(headerText string, h *RouteHeader) error {
	return parseRouteAddress(headerText, &h.Address, nil)
}

// parseRouteHeader generates RecordRouteHeader
func headerParserRecordRoute(headerName []byte, headerText string) (header Header, err error) {
	// Append a comma to simplify the parsing code; we split address sections
	// on commas, so use a comma to signify the end of the final address section.
	h := RecordRouteHeader{}
	return &h, parseRecordRouteHeader(headerText, &h)
}

func parseRecordRouteHeader(headerText string, h *RecordRouteHeader) error {
	return parseRouteAddress(headerText, &h.Address, nil)
}

func headerParserReferTo(headerName []byte, headerText string) (header Header, err error) {
	h := ReferToHeader{}
	return &h, parseReferToHeader(headerText, &h)
}

func parseReferToHeader(headerText string, h *ReferToHeader) error {
	return parseRouteAddress(headerText, &h.Address, nil) // calling parseRouteAddress because the structure is same
}

func headerParserReferredBy(headerName []byte, headerText string) (header Header, err error) {
	h := &ReferredByHeader{}
	return h, parseReferredByHeader(headerText, h)
}

func parseReferredByHeader(headerText string, h *ReferredByHeader) error {
	return parseReferredBy(headerText, h, nil)
}

func parseReferredBy(headerText string, h *ReferredByHeader, a *msgArena) error {
	var err error

	h.Params = nil
	h.DisplayName, err = parseAddressValue(headerText, &h.Address, &h.Params, a)
	h.Params = a.keep(h.Params)
	if err != nil {
		return err
	}

	if h.Address.Wildcard {
		// The Wildcard '*' URI is only permitted in Contact headers.
		err = fmt.Errorf(
			"wildcard uri not permitted in to: header: %s",
			headerText,
		)
		return err
	}
	return nil
}

// parseRouteAddress takes the URI's parameters from a, when not nil
// (deskpbx patch).
func parseRouteAddress(headerText string, address *Uri, a *msgArena) (err error) {
	inBrackets := false
	inQuotes := false
	end := len(headerText) - 1
	for idx, char := range headerText {
		if char == '<' && !inQuotes {
			inBrackets = true
			continue
		}
		if char == '>' && !inQuotes {
			inBrackets = false
		} else if char == '"' {
			inQuotes = !inQuotes
		}

		if !inQuotes && !inBrackets {
			switch {
			case char == ',':
				err = errComaDetected(idx)
			case idx == end:
				idx = idx + 1
			default:
				continue
			}

			_, e := parseAddressValue(headerText[:idx], address, nil, a)
			if e != nil {
				return e
			}
			break
		}
	}
	return
}
