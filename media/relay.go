package media

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Relay anchors the RTP of one call in the PBX: two sockets, one facing
// each party, and every packet that arrives on one leaves from the other
// unchanged, so RFC 4733 events and any codec pass through. Used where the
// parties cannot reach each other (phones on a private LAN, a provider on
// the internet).
//
// Each side is symmetric: it sends to where the party's SDP said, until
// the first packet arrives from the party; from then on it sends to that
// packet's source (the party's NAT mapping) and drops packets from any
// other source.
//
// RTCP is relayed the same way on the port above each RTP port (RFC 3550
// section 11; the allocator leaves odd ports free for it), latching on
// its own: a NAT maps the RTCP socket apart from the RTP one. A party
// that multiplexes RTCP on its RTP port (RFC 5761 rtcp-mux, passed
// through in the SDP) has it relayed with its RTP.
type Relay struct {
	sides [2]*relaySide
	wg    sync.WaitGroup
	start sync.Once
	once  sync.Once
}

type relaySide struct {
	lease *PortLease

	mu      sync.Mutex
	peer    netip.AddrPort // where this side's party gets packets
	latched bool

	received  atomic.Uint64 // packets from this side's party
	forwarded atomic.Uint64 // of those, sent on to the other party

	rtcp *relayRTCP // nil when the port above the RTP port could not be bound
}

// relayRTCP is a side's RTCP socket and the party's RTCP address.
type relayRTCP struct {
	conn *net.UDPConn

	mu       sync.Mutex
	peer     netip.AddrPort
	latched  bool
	explicit bool // peer came from an a=rtcp attribute

	received, forwarded atomic.Uint64
}

// rtcpTries bounds the RTP ports a relay side tries before going without
// RTCP: the port above may be taken by another program.
const rtcpTries = 4

// NewRelay leases two RTP ports on ip. Start it once both parties'
// addresses are known (or as soon as one is: it latches on the other).
func NewRelay(ports *PortAllocator, ip netip.Addr) (*Relay, error) {
	r := &Relay{}
	for i := range r.sides {
		s, err := newRelaySide(ports, ip)
		if err != nil {
			r.closeLeases()
			return nil, fmt.Errorf("media relay: %w", err)
		}
		r.sides[i] = s
	}
	return r, nil
}

// newRelaySide leases an RTP port whose RTCP port is free too, or after
// rtcpTries ports, one without RTCP: audio matters more.
func newRelaySide(ports *PortAllocator, ip netip.Addr) (*relaySide, error) {
	for try := 1; ; try++ {
		l, err := ports.Listen(ip)
		if err != nil {
			return nil, err
		}
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(l.Port()+1))))
		if err == nil {
			return &relaySide{lease: l, rtcp: &relayRTCP{conn: conn}}, nil
		}
		if try == rtcpTries {
			return &relaySide{lease: l}, nil
		}
		l.Close()
	}
}

// Port is the local port that party side (0 or 1) sends its RTP to.
func (r *Relay) Port(side int) int { return r.sides[side].lease.Port() }

// SetPeer says where party side expects RTP, from its SDP, and RTCP on
// the port above unless SetRTCPPeer said otherwise. A changed address (a
// re-INVITE) starts latching again.
func (r *Relay) SetPeer(side int, addr netip.AddrPort) {
	s := r.sides[side]
	s.mu.Lock()
	changed := addr != s.peer
	if changed {
		s.peer, s.latched = addr, false
	}
	s.mu.Unlock()
	if q := s.rtcp; q != nil && changed {
		q.mu.Lock()
		q.peer, q.latched, q.explicit = netip.AddrPortFrom(addr.Addr(), addr.Port()+1), false, false
		q.mu.Unlock()
	}
}

// SetRTCPPeer says where party side expects RTCP when its SDP names it
// (an a=rtcp attribute); call it after SetPeer.
func (r *Relay) SetRTCPPeer(side int, addr netip.AddrPort) {
	q := r.sides[side].rtcp
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if addr != q.peer || !q.explicit {
		q.peer, q.latched, q.explicit = addr, false, true
	}
}

// HasRTCP says whether side relays RTCP on the port above its RTP port.
func (r *Relay) HasRTCP(side int) bool { return r.sides[side].rtcp != nil }

// Start forwards packets both ways until Close. Calling it again (early
// media, then the answer) changes nothing.
func (r *Relay) Start() {
	r.start.Do(func() {
		r.wg.Add(2)
		go r.forward(0, 1)
		go r.forward(1, 0)
		if r.sides[0].rtcp != nil && r.sides[1].rtcp != nil {
			r.wg.Add(2)
			go r.forwardRTCP(r.sides[0].rtcp, r.sides[1].rtcp)
			go r.forwardRTCP(r.sides[1].rtcp, r.sides[0].rtcp)
		}
	})
}

// Close stops forwarding and returns the ports.
func (r *Relay) Close() {
	r.once.Do(func() {
		r.closeLeases()
		r.wg.Wait()
	})
}

func (r *Relay) closeLeases() {
	for _, s := range r.sides {
		if s != nil {
			s.lease.Close()
			if s.rtcp != nil {
				s.rtcp.conn.Close()
			}
		}
	}
}

// Received is how many packets party side sent us, and how many of them
// went on to the other party.
func (r *Relay) Received(side int) (received, forwarded uint64) {
	s := r.sides[side]
	return s.received.Load(), s.forwarded.Load()
}

// ReceivedRTCP is Received for the RTCP port (RTCP multiplexed on the RTP
// port counts in Received).
func (r *Relay) ReceivedRTCP(side int) (received, forwarded uint64) {
	q := r.sides[side].rtcp
	if q == nil {
		return 0, 0
	}
	return q.received.Load(), q.forwarded.Load()
}

// forwardRTCP is forward for the RTCP ports: only RTCP packets (RFC 5761
// section 4: packet types 192-223) pass, latched like RTP.
func (r *Relay) forwardRTCP(src, dst *relayRTCP) {
	defer r.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, addr, err := src.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !isRTCP(buf[:n]) || !latch(&src.mu, &src.peer, &src.latched, addr) {
			continue
		}
		src.received.Add(1)
		dst.mu.Lock()
		peer := dst.peer
		dst.mu.Unlock()
		if !peer.IsValid() || peer.Port() == 0 {
			continue
		}
		if _, err := dst.conn.WriteToUDPAddrPort(buf[:n], peer); err == nil {
			src.forwarded.Add(1)
		}
	}
}

func (r *Relay) forward(from, to int) {
	defer r.wg.Done()
	src, dst := r.sides[from], r.sides[to]
	buf := make([]byte, 1500)
	for {
		n, addr, err := src.lease.Conn().ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !rtpOrRTCP(buf[:n]) || !src.accept(addr) {
			continue // not RTP (or RTCP multiplexed with it), or not from the party this side latched on
		}
		src.received.Add(1)
		peer, ok := dst.destination()
		if !ok {
			continue
		}
		if _, err := dst.lease.Conn().WriteToUDPAddrPort(buf[:n], peer); err == nil {
			src.forwarded.Add(1)
		}
	}
}

// isRTCP tells RTCP from RTP by the packet type (RFC 5761 section 4:
// 192-223 are RTCP's); an empty receiver report is 8 bytes.
func isRTCP(b []byte) bool { return len(b) >= 8 && b[0]>>6 == 2 && b[1] >= 192 && b[1] <= 223 }

func rtpOrRTCP(b []byte) bool { return len(b) >= 12 && b[0]>>6 == 2 || isRTCP(b) }

// accept latches on the first source and refuses the others.
func (s *relaySide) accept(addr netip.AddrPort) bool {
	return latch(&s.mu, &s.peer, &s.latched, addr)
}

// latch is symmetric latching for one socket: the first source becomes
// the peer, and packets from any other are refused.
func latch(mu *sync.Mutex, peer *netip.AddrPort, latched *bool, addr netip.AddrPort) bool {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	mu.Lock()
	defer mu.Unlock()
	if !*latched {
		*peer, *latched = addr, true
		return true
	}
	return addr == *peer
}

func (s *relaySide) destination() (netip.AddrPort, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peer, s.peer.IsValid() && s.peer.Port() != 0
}

// RewriteSDP makes body point its audio at ip:port (the relay's socket
// for the other party) and returns where its author receives audio.
// Other media streams are refused (port 0): only audio is relayed. ICE
// candidates and RTCP ports would name the author's own addresses, so
// they go.
func RewriteSDP(body []byte, ip netip.Addr, port int) ([]byte, netip.AddrPort, error) {
	d, err := ParseSDP(body)
	if err != nil {
		return nil, netip.AddrPort{}, err
	}
	var remote netip.AddrPort
	for _, m := range d.Media {
		if m.Type == "audio" && m.Port > 0 {
			remote = netip.AddrPortFrom(m.Conn.Unmap(), uint16(m.Port))
			break
		}
	}
	if !remote.IsValid() {
		return nil, remote, errors.New("sdp: no audio stream")
	}
	family := "IP4"
	if ip.Is6() {
		family = "IP6"
	}
	eol := []byte("\r\n")
	if !bytes.Contains(body, eol) {
		eol = []byte("\n")
	}
	var out bytes.Buffer
	audioDone := false
	for _, line := range bytes.Split(bytes.TrimRight(body, "\r\n"), []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		s := string(line)
		switch {
		case len(s) > 2 && s[:2] == "o=":
			f := bytes.Fields(line)
			if len(f) == 6 {
				f[4], f[5] = []byte(family), []byte(ip.String())
				line = bytes.Join(f, []byte(" "))
			}
		case len(s) > 2 && s[:2] == "c=":
			line = []byte("c=IN " + family + " " + ip.String())
		case len(s) > 2 && s[:2] == "m=":
			f := bytes.Fields(line)
			if len(f) >= 2 {
				if string(f[0]) == "m=audio" && !audioDone {
					f[1] = []byte(strconv.Itoa(port))
					audioDone = true
				} else {
					f[1] = []byte("0")
				}
				line = bytes.Join(f, []byte(" "))
			}
		case bytes.HasPrefix(line, []byte("a=rtcp:")), bytes.HasPrefix(line, []byte("a=candidate:")),
			bytes.HasPrefix(line, []byte("a=ice-")), bytes.HasPrefix(line, []byte("a=end-of-candidates")):
			continue
		}
		out.Write(line)
		out.Write(eol)
	}
	return out.Bytes(), remote, nil
}

// ExplicitRTCP is where the author of body receives RTCP for its audio
// when an a=rtcp attribute (RFC 3605) says so; without one, RTCP goes to
// the port above rtp, which SetPeer assumes.
func ExplicitRTCP(body []byte, rtp netip.AddrPort) (netip.AddrPort, bool) {
	inAudio := false
	for _, line := range bytes.Split(body, []byte("\n")) {
		s := string(bytes.TrimRight(line, "\r"))
		switch {
		case len(s) > 2 && s[:2] == "m=":
			if inAudio {
				return netip.AddrPort{}, false // only the first audio stream is relayed
			}
			inAudio = len(s) > 8 && s[:8] == "m=audio "
		case inAudio && len(s) > 7 && s[:7] == "a=rtcp:":
			f := strings.Fields(s[7:])
			if len(f) == 0 {
				return netip.AddrPort{}, false
			}
			port, err := strconv.ParseUint(f[0], 10, 16)
			if err != nil || port == 0 {
				return netip.AddrPort{}, false
			}
			addr := rtp.Addr()
			if len(f) == 4 && f[1] == "IN" {
				if a, err := netip.ParseAddr(f[3]); err == nil {
					addr = a.Unmap()
				}
			}
			return netip.AddrPortFrom(addr, uint16(port)), true
		}
	}
	return netip.AddrPort{}, false
}
