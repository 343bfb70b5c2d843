package media

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
)

// ErrNoCommonCodec means no usable audio stream offers PCMU or PCMA: pbx
// answers 488 Not Acceptable Here.
var ErrNoCommonCodec = errors.New("no common codec")

// Negotiated is the outcome of offer/answer for the one audio stream we
// terminate: what a Session needs to send and understand RTP.
type Negotiated struct {
	Codec   Codec
	EventPT uint8 // telephone-event payload type; 0 when none (0 is PCMU, never an event PT)
	// Remote is where the peer asked for RTP. It is invalid when the peer
	// gave no usable address (c=0.0.0.0 hold); symmetric RTP may still
	// learn one from the packets it receives.
	Remote    netip.AddrPort
	Direction Direction // OUR direction on this stream
	Ptime     int       // the peer's a=ptime in ms, 0 when absent; we always send 20 ms
}

// Answer is our answer to one offer. It keeps the offer's m= lines so the
// answer has one m= per offered stream, as RFC 3264 requires.
type Answer struct {
	Negotiated
	offer  *Description
	stream int // index of the accepted m= line
	origin *origin
}

// Negotiate answers an offer: the first of PCMU/PCMA in the offer's own
// order on the first audio stream that has one, the offer's telephone-event
// payload type if any, and the mirrored direction. Streams with port 0 are
// skipped (they were rejected or disabled by the offerer).
func Negotiate(offer []byte) (*Answer, error) {
	return negotiate(offer, newOrigin())
}

// Renegotiate answers a new offer in the same dialog (re-INVITE for hold,
// unhold, or a new address): the o= session id stays, and its version moves
// on whenever the answer's content changes.
func (a *Answer) Renegotiate(offer []byte) (*Answer, error) {
	return negotiate(offer, a.origin)
}

func negotiate(offer []byte, o *origin) (*Answer, error) {
	d, err := ParseSDP(offer)
	if err != nil {
		return nil, err
	}
	for i := range d.Media {
		m := &d.Media[i]
		if m.Type != "audio" || m.Port == 0 || !plainRTP(m.Proto) {
			continue
		}
		codec, ok := firstG711(m, nil)
		if !ok {
			continue
		}
		dir := m.Direction
		if m.Conn.IsUnspecified() {
			// RFC 2543 hold: c=0.0.0.0 means "do not send to me", which in
			// RFC 3264 terms is the offerer no longer receiving.
			dir = withoutRecv(dir)
		}
		n := Negotiated{
			Codec:     codec,
			EventPT:   telephoneEvent(m),
			Direction: dir.Reverse(),
			Ptime:     m.Ptime,
		}
		if !m.Conn.IsUnspecified() {
			n.Remote = netip.AddrPortFrom(m.Conn, uint16(m.Port))
		}
		return &Answer{Negotiated: n, offer: d, stream: i, origin: o}, nil
	}
	return nil, ErrNoCommonCodec
}

// plainRTP accepts the profiles we can speak: SRTP (SAVP) needs keys we do
// not have, so such a stream is declined like an unknown codec.
func plainRTP(proto string) bool { return proto == "RTP/AVP" || proto == "RTP/AVPF" }

func withoutRecv(d Direction) Direction {
	switch d {
	case SendRecv:
		return SendOnly
	case RecvOnly:
		return Inactive
	}
	return d
}

// firstG711 picks the first PCMU/PCMA format in m's order, restricted to
// allowed when it is non-nil.
func firstG711(m *MediaDescription, allowed []Codec) (Codec, bool) {
	for _, pt := range m.PayloadTypes() {
		name, rate := m.encoding(pt)
		if rate != 8000 {
			continue
		}
		var c Codec
		switch {
		case pt == 0 && name == "PCMU":
			c = PCMU
		case pt == 8 && name == "PCMA":
			c = PCMA
		default:
			continue
		}
		if allowed == nil || containsCodec(allowed, c) {
			return c, true
		}
	}
	return 0, false
}

func containsCodec(cs []Codec, c Codec) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// telephoneEvent finds the 8 kHz telephone-event payload type; offers that
// also carry Opus list a 48 kHz one too, which does not apply to G.711.
func telephoneEvent(m *MediaDescription) uint8 {
	for _, pt := range m.PayloadTypes() {
		if pt == 0 {
			continue
		}
		if rm, ok := m.RTPMap[pt]; ok && strings.EqualFold(rm.Encoding, "telephone-event") && rm.ClockRate == 8000 {
			return pt
		}
	}
	return 0
}

// Marshal renders the answer with our media address. Rejected and
// unanswered streams are kept as m= lines with port 0.
func (a *Answer) Marshal(ip string, port int) []byte {
	var b bytes.Buffer
	for i := range a.offer.Media {
		m := &a.offer.Media[i]
		if i != a.stream {
			fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.Type, m.Proto, strings.Join(m.Formats, " "))
			continue
		}
		writeAudio(&b, m.Proto, port, []Codec{a.Codec}, a.EventPT, a.Direction)
	}
	return a.origin.render(ip, b.Bytes())
}

func writeAudio(b *bytes.Buffer, proto string, port int, codecs []Codec, eventPT uint8, dir Direction) {
	fmt.Fprintf(b, "m=audio %d %s", port, proto)
	for _, c := range codecs {
		fmt.Fprintf(b, " %d", c.PayloadType())
	}
	if eventPT != 0 {
		fmt.Fprintf(b, " %d", eventPT)
	}
	b.WriteString("\r\n")
	for _, c := range codecs {
		fmt.Fprintf(b, "a=rtpmap:%d %s/8000\r\n", c.PayloadType(), c)
	}
	if eventPT != 0 {
		fmt.Fprintf(b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", eventPT, eventPT)
	}
	fmt.Fprintf(b, "a=ptime:20\r\na=%s\r\n", dir)
}

// origin keeps the o= line stable over a dialog: same session id, version
// incremented only when the SDP content changes (RFC 3264 section 8), so a
// retransmitted or repeated answer keeps its version.
type origin struct {
	mu      sync.Mutex
	id      uint64
	version uint64
	last    []byte
}

func newOrigin() *origin {
	// 62 bits keeps the id a positive int64 for parsers that read it so.
	return &origin{id: rand.Uint64() >> 2}
}

func (o *origin) render(ip string, media []byte) []byte {
	addrType := "IP4"
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		addrType = "IP6"
	}
	var body bytes.Buffer
	fmt.Fprintf(&body, "s=deskpbx\r\nc=IN %s %s\r\nt=0 0\r\n", addrType, ip)
	body.Write(media)

	o.mu.Lock()
	if !bytes.Equal(body.Bytes(), o.last) {
		o.version++
		o.last = bytes.Clone(body.Bytes())
	}
	version := o.version
	o.mu.Unlock()

	var out bytes.Buffer
	fmt.Fprintf(&out, "v=0\r\no=deskpbx %d %d IN %s %s\r\n", o.id, version, addrType, ip)
	out.Write(body.Bytes())
	return out.Bytes()
}

// Offer is an SDP offer we make, for calls the PBX originates with its own
// media (call-backs, announcements).
type Offer struct {
	Codecs    []Codec // in our order of preference
	EventPT   uint8   // 0 offers no telephone-event
	Direction Direction
	origin    *origin
}

// NewOffer offers PCMU, PCMA and telephone-event on payload type 101, the
// value most phones use themselves.
func NewOffer() *Offer {
	return &Offer{Codecs: []Codec{PCMU, PCMA}, EventPT: 101, Direction: SendRecv, origin: newOrigin()}
}

// Marshal renders the offer with our media address; repeated calls keep the
// session id and bump the version only when the content changes.
func (o *Offer) Marshal(ip string, port int) []byte {
	if o.origin == nil {
		o.origin = newOrigin()
	}
	var b bytes.Buffer
	writeAudio(&b, "RTP/AVP", port, o.Codecs, o.EventPT, o.Direction)
	return o.origin.render(ip, b.Bytes())
}

// Accept reads the peer's answer to this offer.
func (o *Offer) Accept(answer []byte) (Negotiated, error) {
	d, err := ParseSDP(answer)
	if err != nil {
		return Negotiated{}, err
	}
	for i := range d.Media {
		m := &d.Media[i]
		if m.Type != "audio" {
			continue
		}
		if m.Port == 0 {
			return Negotiated{}, ErrNoCommonCodec
		}
		codec, ok := firstG711(m, o.Codecs)
		if !ok {
			return Negotiated{}, ErrNoCommonCodec
		}
		n := Negotiated{Codec: codec, Direction: m.Direction.Reverse(), Ptime: m.Ptime}
		if o.EventPT != 0 {
			n.EventPT = telephoneEvent(m)
		}
		if !m.Conn.IsUnspecified() {
			n.Remote = netip.AddrPortFrom(m.Conn, uint16(m.Port))
		} else {
			n.Direction = withoutRecv(m.Direction).Reverse()
		}
		return n, nil
	}
	return Negotiated{}, ErrNoCommonCodec
}
