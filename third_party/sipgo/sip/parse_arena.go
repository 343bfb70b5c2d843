package sip

import "sync/atomic"

// deskpbx patch: a datagram's headers are parsed into one msgArena,
// allocated once per message, instead of an allocation per header, per
// parameter list and per growth of the header list: these were most of
// the allocations of a REGISTER's parse, done on the UDP reading
// goroutine. What the parse produces is unchanged: the same types, values
// and errors; only where they live. Whatever keeps one header keeps the
// arena (as it keeps the section's text since patch 7).
//
// The arena serves only a parser with the package's own header parsers,
// which it calls directly instead of looking them up in the map: a parser
// given other parsers (WithHeadersParsers), or any parser once the
// package's map has been handed out to be changed (DefaultHeadersParser),
// parses as before.
//
// The arrays hold what a REGISTER has (eleven headers, four parameters,
// three headers without a parser) with a requestArena within 1,792
// bytes, an allocation size class: larger ones would round up to 2,048.
// A message with more takes allocations of its own for the rest.
type msgArena struct {
	via           ViaHeader
	from          FromHeader
	to            ToHeader
	contact       ContactHeader
	callID        CallIDHeader
	cseq          CSeqHeader
	maxForwards   MaxForwardsHeader
	contentLength ContentLengthHeader
	contentType   ContentTypeHeader
	used          uint16 // arenaVia... for each header above handed out

	// headers backs the message's header list.
	headers [16]Header
	// kv backs parameter lists, each cut to its length when parsed.
	kv  [6]HeaderKV
	nkv int
	// generic backs the first headers without a parser.
	generic  [3]genericHeader
	ngeneric int

	// req, when not nil, is where a request is made (requestArena).
	req *Request
}

// requestArena is a request's arena with the request itself, one
// allocation less per request.
type requestArena struct {
	arena msgArena
	req   Request
}

// newMsgArena returns the arena for the message that data begins with.
func newMsgArena(data []byte) *msgArena {
	if len(data) >= 4 && string(data[:4]) == "SIP/" {
		return new(msgArena) // a response
	}
	r := new(requestArena)
	r.arena.req = &r.req
	return &r.arena
}

const (
	arenaVia = 1 << iota
	arenaFrom
	arenaTo
	arenaContact
	arenaCallID
	arenaCSeq
	arenaMaxForwards
	arenaContentLength
	arenaContentType
)

// defaultParsersShared is set once DefaultHeadersParser has handed out
// the package's map, which its caller may change.
var defaultParsersShared atomic.Bool

// take reports whether the header marked bit is still free, and marks it.
func (a *msgArena) take(bit uint16) bool {
	if a == nil || a.used&bit != 0 {
		return false
	}
	a.used |= bit
	return true
}

// params returns an empty parameter list that appends into the arena's
// spare room; nil without an arena, so that a list nothing is added to
// stays nil, as it was.
func (a *msgArena) params() HeaderParams {
	if a == nil {
		return nil
	}
	return a.kv[a.nkv:a.nkv:len(a.kv)]
}

// keep ends p, from params, where it is: the arena's spare room moves
// past it, and p's capacity is cut so that appending to it later copies
// it rather than writing over a neighbour's. An empty p is nil. Without
// an arena p is left as it is.
func (a *msgArena) keep(p HeaderParams) HeaderParams {
	if a == nil {
		return p
	}
	if len(p) == 0 {
		return nil
	}
	if a.nkv < len(a.kv) && &p[0] == &a.kv[a.nkv] {
		a.nkv += len(p)
	}
	return p[:len(p):len(p)]
}

// newGeneric is NewHeader, in the arena while it has room.
func (a *msgArena) newGeneric(name, value string) Header {
	if a == nil || a.ngeneric == len(a.generic) {
		return NewHeader(name, value)
	}
	h := &a.generic[a.ngeneric]
	a.ngeneric++
	h.HeaderName, h.Contents = name, value
	return h
}

// arenaHeaderParser is a HeaderParser of the package's own that places
// what it parses in a (which may be nil).
type arenaHeaderParser func(a *msgArena, headerText string) (Header, error)

// stockHeaderParser returns the arena parser for a lower-case header
// name: one for each name of the package's map (headersParsers), nil
// for any other.
func stockHeaderParser(lowerName string) arenaHeaderParser {
	switch lowerName {
	case "via", "v":
		return arenaParseVia
	case "from", "f":
		return arenaParseFrom
	case "to", "t":
		return arenaParseTo
	case "contact", "m":
		return arenaParseContact
	case "call-id", "i":
		return arenaParseCallID
	case "cseq":
		return arenaParseCSeq
	case "max-forwards":
		return arenaParseMaxForwards
	case "content-length", "l":
		return arenaParseContentLength
	case "content-type", "c":
		return arenaParseContentType
	case "route":
		return arenaParseRoute
	case "record-route":
		return arenaParseRecordRoute
	case "refer-to":
		return arenaParseReferTo
	case "referred-by":
		return arenaParseReferredBy
	}
	return nil
}

func arenaParseVia(a *msgArena, text string) (Header, error) {
	h := &a.via
	if !a.take(arenaVia) {
		h = &ViaHeader{}
	}
	return h, parseVia(text, h, a)
}

func arenaParseFrom(a *msgArena, text string) (Header, error) {
	h := &a.from
	if !a.take(arenaFrom) {
		h = &FromHeader{}
	}
	return h, parseFrom(text, h, a)
}

func arenaParseTo(a *msgArena, text string) (Header, error) {
	h := &a.to
	if !a.take(arenaTo) {
		h = &ToHeader{}
	}
	return h, parseTo(text, h, a)
}

func arenaParseContact(a *msgArena, text string) (Header, error) {
	h := &a.contact
	if !a.take(arenaContact) {
		h = &ContactHeader{}
	}
	return h, parseContact(text, h, a)
}

func arenaParseCallID(a *msgArena, text string) (Header, error) {
	h := &a.callID
	if !a.take(arenaCallID) {
		h = new(CallIDHeader)
	}
	return h, parseCallIdHeader(text, h)
}

func arenaParseCSeq(a *msgArena, text string) (Header, error) {
	h := &a.cseq
	if !a.take(arenaCSeq) {
		h = &CSeqHeader{}
	}
	return h, parseCSeqHeader(text, h)
}

func arenaParseMaxForwards(a *msgArena, text string) (Header, error) {
	h := &a.maxForwards
	if !a.take(arenaMaxForwards) {
		h = new(MaxForwardsHeader)
	}
	return h, parseMaxForwardsHeader(text, h)
}

func arenaParseContentLength(a *msgArena, text string) (Header, error) {
	h := &a.contentLength
	if !a.take(arenaContentLength) {
		h = new(ContentLengthHeader)
	}
	return h, parseContentLengthHeader(text, h)
}

func arenaParseContentType(a *msgArena, text string) (Header, error) {
	h := &a.contentType
	if !a.take(arenaContentType) {
		h = new(ContentTypeHeader)
	}
	return h, parseContentTypeHeader(text, h)
}

func arenaParseRoute(a *msgArena, text string) (Header, error) {
	h := &RouteHeader{}
	return h, parseRouteAddress(text, &h.Address, a)
}

func arenaParseRecordRoute(a *msgArena, text string) (Header, error) {
	h := &RecordRouteHeader{}
	return h, parseRouteAddress(text, &h.Address, a)
}

func arenaParseReferTo(a *msgArena, text string) (Header, error) {
	h := &ReferToHeader{}
	return h, parseRouteAddress(text, &h.Address, a)
}

func arenaParseReferredBy(a *msgArena, text string) (Header, error) {
	h := &ReferredByHeader{}
	return h, parseReferredBy(text, h, a)
}
