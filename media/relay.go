package media

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
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
}

// NewRelay leases two RTP ports on ip. Start it once both parties'
// addresses are known (or as soon as one is: it latches on the other).
func NewRelay(ports *PortAllocator, ip netip.Addr) (*Relay, error) {
	r := &Relay{}
	for i := range r.sides {
		l, err := ports.Listen(ip)
		if err != nil {
			r.closeLeases()
			return nil, fmt.Errorf("media relay: %w", err)
		}
		r.sides[i] = &relaySide{lease: l}
	}
	return r, nil
}

// Port is the local port that party side (0 or 1) sends its RTP to.
func (r *Relay) Port(side int) int { return r.sides[side].lease.Port() }

// SetPeer says where party side expects RTP, from its SDP. A changed
// address (a re-INVITE) starts latching again.
func (r *Relay) SetPeer(side int, addr netip.AddrPort) {
	s := r.sides[side]
	s.mu.Lock()
	defer s.mu.Unlock()
	if addr != s.peer {
		s.peer, s.latched = addr, false
	}
}

// Start forwards packets both ways until Close. Calling it again (early
// media, then the answer) changes nothing.
func (r *Relay) Start() {
	r.start.Do(func() {
		r.wg.Add(2)
		go r.forward(0, 1)
		go r.forward(1, 0)
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
		}
	}
}

// Received is how many packets party side sent us, and how many of them
// went on to the other party.
func (r *Relay) Received(side int) (received, forwarded uint64) {
	s := r.sides[side]
	return s.received.Load(), s.forwarded.Load()
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
		if n < 12 || buf[0]>>6 != 2 || !src.accept(addr) {
			continue // not RTP, or not from the party this side latched on
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

// accept latches on the first source and refuses the others.
func (s *relaySide) accept(addr netip.AddrPort) bool {
	addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.latched {
		s.peer, s.latched = addr, true
		return true
	}
	return addr == s.peer
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
