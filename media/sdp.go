package media

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ErrMalformedSDP wraps every parse failure, so pbx can answer 400/488
// without string matching.
var ErrMalformedSDP = errors.New("malformed SDP")

// maxSDP bounds what we parse: a real offer is well under 2 KB, and this
// text comes straight from the network.
const maxSDP = 64 << 10

// Direction is an SDP stream direction attribute (RFC 3264 section 5.1).
type Direction uint8

const (
	SendRecv Direction = iota // the default when no attribute is present
	SendOnly
	RecvOnly
	Inactive
)

func (d Direction) String() string {
	switch d {
	case SendOnly:
		return "sendonly"
	case RecvOnly:
		return "recvonly"
	case Inactive:
		return "inactive"
	}
	return "sendrecv"
}

// Reverse is the direction the other side of a stream has: what an answer
// says to an offer's direction, and what we do after reading an answer.
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Sends reports whether the side holding this direction may send media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

func parseDirection(attr string) (Direction, bool) {
	switch attr {
	case "sendrecv":
		return SendRecv, true
	case "sendonly":
		return SendOnly, true
	case "recvonly":
		return RecvOnly, true
	case "inactive":
		return Inactive, true
	}
	return SendRecv, false
}

// RTPMap is one a=rtpmap attribute.
type RTPMap struct {
	Encoding  string // as written, e.g. "PCMU", "telephone-event"
	ClockRate int
	Channels  int // 0 when not given
}

// Description is the part of an SDP body deskpbx cares about.
type Description struct {
	Origin    string     // the o= value, kept to recognise re-offers
	Conn      netip.Addr // session-level c=, invalid when absent
	Direction Direction  // session-level direction, SendRecv when absent
	Media     []MediaDescription
}

// MediaDescription is one m= section, with session-level defaults (c=,
// direction, ptime) already applied.
type MediaDescription struct {
	Type      string // "audio", "video", ...
	Port      int    // 0 means the stream is rejected or disabled
	Proto     string // "RTP/AVP", ...
	Formats   []string
	Conn      netip.Addr // effective connection address
	RTPMap    map[uint8]RTPMap
	Fmtp      map[uint8]string
	Ptime     int // milliseconds, 0 when absent
	Direction Direction
}

// PayloadTypes returns the formats that are valid RTP payload types, in
// offer order.
func (m *MediaDescription) PayloadTypes() []uint8 {
	pts := make([]uint8, 0, len(m.Formats))
	for _, f := range m.Formats {
		if pt, err := strconv.ParseUint(f, 10, 7); err == nil {
			pts = append(pts, uint8(pt))
		}
	}
	return pts
}

// encoding names the payload type's codec: from rtpmap when present, from
// the RFC 3551 static table otherwise (SIPp-style offers omit rtpmap).
func (m *MediaDescription) encoding(pt uint8) (name string, rate int) {
	if rm, ok := m.RTPMap[pt]; ok {
		return strings.ToUpper(rm.Encoding), rm.ClockRate
	}
	switch pt {
	case 0:
		return "PCMU", 8000
	case 8:
		return "PCMA", 8000
	}
	return "", 0
}

func malformed(line int, format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrMalformedSDP, line, fmt.Sprintf(format, args...))
}

// ParseSDP parses an SDP body (RFC 8866). It is strict about the lines that
// decide where media goes (v=, c=, m=) and lenient about attributes: an
// attribute we cannot read is skipped, because phones add vendor ones freely.
func ParseSDP(body []byte) (*Description, error) {
	if len(body) > maxSDP {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedSDP, len(body))
	}
	d := &Description{}
	var (
		sawV       bool
		sessionDir Direction
		sessionPt  int
		cur        *MediaDescription
		hasMDir    []bool
		hasMConn   []bool
	)
	lineNo := 0
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		lineNo++
		line = bytes.TrimRight(line, "\r \t")
		if len(line) == 0 {
			continue // blank lines, typically a trailing one
		}
		if len(line) < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z' {
			return nil, malformed(lineNo, "not a type=value line")
		}
		typ, val := line[0], string(line[2:])
		if !sawV {
			if typ != 'v' || val != "0" {
				return nil, malformed(lineNo, "SDP must start with v=0")
			}
			sawV = true
			continue
		}
		switch typ {
		case 'o':
			if cur == nil {
				d.Origin = val
			}
		case 'c':
			addr, err := parseConn(val)
			if err != nil {
				return nil, malformed(lineNo, "%v", err)
			}
			if cur == nil {
				d.Conn = addr
			} else {
				cur.Conn = addr
				hasMConn[len(hasMConn)-1] = true
			}
		case 'm':
			m, err := parseMLine(val)
			if err != nil {
				return nil, malformed(lineNo, "%v", err)
			}
			d.Media = append(d.Media, m)
			cur = &d.Media[len(d.Media)-1]
			hasMDir = append(hasMDir, false)
			hasMConn = append(hasMConn, false)
		case 'a':
			name, arg, _ := strings.Cut(val, ":")
			if dir, ok := parseDirection(name); ok {
				if cur == nil {
					sessionDir = dir
				} else {
					cur.Direction = dir
					hasMDir[len(hasMDir)-1] = true
				}
				continue
			}
			switch name {
			case "ptime":
				ms, err := strconv.Atoi(strings.TrimSpace(arg))
				if err != nil || ms <= 0 || ms > 1000 {
					continue
				}
				if cur == nil {
					sessionPt = ms
				} else {
					cur.Ptime = ms
				}
			case "rtpmap":
				if cur != nil {
					if pt, rm, ok := parseRTPMap(arg); ok {
						cur.RTPMap[pt] = rm
					}
				}
			case "fmtp":
				if cur != nil {
					ptStr, params, _ := strings.Cut(arg, " ")
					if pt, err := strconv.ParseUint(ptStr, 10, 7); err == nil {
						cur.Fmtp[uint8(pt)] = strings.TrimSpace(params)
					}
				}
			}
		}
	}
	if !sawV {
		return nil, fmt.Errorf("%w: empty body", ErrMalformedSDP)
	}
	d.Direction = sessionDir
	// Apply session defaults only now: c= and a= may legally follow t= and
	// other session lines in any order before the first m=.
	for i := range d.Media {
		m := &d.Media[i]
		if !hasMConn[i] {
			m.Conn = d.Conn
		}
		if !hasMDir[i] {
			m.Direction = sessionDir
		}
		if m.Ptime == 0 {
			m.Ptime = sessionPt
		}
		if m.Port != 0 && !m.Conn.IsValid() {
			return nil, fmt.Errorf("%w: m=%s has no c= address", ErrMalformedSDP, m.Type)
		}
	}
	return d, nil
}

func parseConn(val string) (netip.Addr, error) {
	f := strings.Fields(val)
	if len(f) != 3 || f[0] != "IN" {
		return netip.Addr{}, fmt.Errorf("bad c= %q", val)
	}
	host, _, _ := strings.Cut(f[2], "/") // multicast TTL / count
	addr, err := netip.ParseAddr(host)
	if err != nil {
		// FQDNs are legal SDP but would need DNS on the call path; no
		// phone we know sends one.
		return netip.Addr{}, fmt.Errorf("c= address %q is not an IP address", host)
	}
	switch {
	case f[1] == "IP4" && addr.Is4():
	case f[1] == "IP6" && addr.Is6():
		addr = addr.Unmap()
	default:
		return netip.Addr{}, fmt.Errorf("c= address type %s does not match %q", f[1], host)
	}
	return addr, nil
}

func parseMLine(val string) (MediaDescription, error) {
	f := strings.Fields(val)
	if len(f) < 4 {
		return MediaDescription{}, fmt.Errorf("bad m= %q", val)
	}
	portStr, _, _ := strings.Cut(f[1], "/") // port/count
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return MediaDescription{}, fmt.Errorf("bad m= port %q", f[1])
	}
	return MediaDescription{
		Type:    f[0],
		Port:    int(port),
		Proto:   f[2],
		Formats: f[3:],
		RTPMap:  map[uint8]RTPMap{},
		Fmtp:    map[uint8]string{},
	}, nil
}

func parseRTPMap(arg string) (uint8, RTPMap, bool) {
	ptStr, enc, ok := strings.Cut(strings.TrimSpace(arg), " ")
	if !ok {
		return 0, RTPMap{}, false
	}
	pt, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return 0, RTPMap{}, false
	}
	parts := strings.Split(strings.TrimSpace(enc), "/")
	if len(parts) < 2 {
		return 0, RTPMap{}, false
	}
	rate, err := strconv.Atoi(parts[1])
	if err != nil {
		return 0, RTPMap{}, false
	}
	rm := RTPMap{Encoding: parts[0], ClockRate: rate}
	if len(parts) > 2 {
		rm.Channels, _ = strconv.Atoi(parts[2])
	}
	return uint8(pt), rm, true
}
