package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// ErrNoPorts means every RTP port of the range is in use or failed to bind.
var ErrNoPorts = errors.New("no free RTP port")

// PortAllocator hands out RTP ports from a range, even numbers only so the
// odd port above each stays free for RTCP (RFC 3550 section 11). It is safe
// for concurrent use.
//
// Ports are chosen at random: with a round-robin cursor the next call's
// port was known from the last one, and a third party could spray it with
// RTP before the phone's first packet arrived. A port released less than
// reuseAfter ago is taken only when nothing else is free, so late packets
// of a finished call find no one rather than the next call. A port that
// fails to bind (another process, a parallel test) is skipped rather than
// reported.
type PortAllocator struct {
	lo    int // first even port
	pairs int

	mu      sync.Mutex
	used    []bool
	freed   []time.Time // when each slot was last released
	inUse   int
	reserve int // ports only ListenPriority may take
}

// reuseAfter keeps a released port out of the random draw for a while.
const reuseAfter = 2 * time.Second

// NewPortAllocator covers the ports lo..hi inclusive (e.g. 10000, 20000).
func NewPortAllocator(lo, hi int) (*PortAllocator, error) {
	if lo%2 != 0 {
		lo++
	}
	if lo < 1024 || hi > 65535 || hi < lo+1 {
		return nil, fmt.Errorf("media: bad RTP port range %d-%d", lo, hi)
	}
	pairs := (hi - lo + 1) / 2
	return &PortAllocator{lo: lo, pairs: pairs, used: make([]bool, pairs), freed: make([]time.Time, pairs)}, nil
}

// InUse reports how many RTP ports are currently leased.
func (a *PortAllocator) InUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inUse
}

// Size is the number of RTP ports (calls) the range can hold.
func (a *PortAllocator) Size() int { return a.pairs }

// SetReserve keeps the last n free ports of the range for ListenPriority,
// so that what must work when the range is nearly full (a hot-desk login
// or logout) still gets a port after ordinary calls have taken the rest.
func (a *PortAllocator) SetReserve(n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reserve = min(max(n, 0), a.pairs)
}

// Listen binds a UDP socket on ip at a free even port, leaving the
// reserve (SetReserve) alone. The lease owns the socket; closing it
// returns the port.
func (a *PortAllocator) Listen(ip netip.Addr) (*PortLease, error) { return a.listen(ip, false) }

// ListenPriority is Listen that may also take a port of the reserve.
func (a *PortAllocator) ListenPriority(ip netip.Addr) (*PortLease, error) { return a.listen(ip, true) }

func (a *PortAllocator) listen(ip netip.Addr, priority bool) (*PortLease, error) {
	return a.lease(ip, priority, func(port int) (*PortLease, error) {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err != nil {
			return nil, err
		}
		return &PortLease{conn: conn, fd: -1, port: port}, nil
	})
}

// listenSession is listen for a Session, whose socket is read and
// written with raw system calls (bindRTP, rawsock_linux.go).
func (a *PortAllocator) listenSession(ip netip.Addr, priority bool) (*PortLease, error) {
	return a.lease(ip, priority, func(port int) (*PortLease, error) { return bindRTP(ip, port) })
}

func (a *PortAllocator) lease(ip netip.Addr, priority bool, bind func(port int) (*PortLease, error)) (*PortLease, error) {
	var lastErr error
	for range a.pairs {
		slot, ok := a.take(priority)
		if !ok {
			break
		}
		l, err := bind(a.lo + 2*slot)
		if err != nil {
			a.release(slot)
			if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EACCES) {
				// Not about this port (an IP that is not ours, say): every
				// other port would fail the same way.
				return nil, fmt.Errorf("media: RTP listen on %v: %w", ip, err)
			}
			lastErr = err
			continue
		}
		l.slot, l.alloc = slot, a
		return l, nil
	}
	if lastErr != nil {
		return nil, fmt.Errorf("%w: last error: %v", ErrNoPorts, lastErr)
	}
	return nil, ErrNoPorts
}

// take marks a random free slot used before binding, so concurrent
// callers never race for the same port inside this process; without
// priority, only while more than the reserve is free. Random draws
// find a free slot at once while the range is not nearly full; then a
// scan from a random start takes the first rested slot, or failing that
// any free one.
func (a *PortAllocator) take(priority bool) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !priority && a.pairs-a.inUse <= a.reserve {
		return 0, false
	}
	now := time.Now()
	rested := func(slot int) bool { return !a.used[slot] && now.Sub(a.freed[slot]) >= reuseAfter }
	take := func(slot int) (int, bool) {
		a.used[slot] = true
		a.inUse++
		return slot, true
	}
	for range 32 {
		if slot := rand.IntN(a.pairs); rested(slot) {
			return take(slot)
		}
	}
	start := rand.IntN(a.pairs)
	for i := range a.pairs {
		if slot := (start + i) % a.pairs; rested(slot) {
			return take(slot)
		}
	}
	for i := range a.pairs {
		if slot := (start + i) % a.pairs; !a.used[slot] {
			return take(slot)
		}
	}
	return 0, false
}

func (a *PortAllocator) release(slot int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used[slot] {
		a.used[slot] = false
		a.freed[slot] = time.Now()
		a.inUse--
	}
}

// PortLease is one bound RTP port: a net.UDPConn, or for a Session a
// bare descriptor (fd, of address family family; -1 with a conn).
type PortLease struct {
	conn   *net.UDPConn
	fd     int
	family int
	port   int
	slot   int
	alloc  *PortAllocator
	once   sync.Once
	err    error
}

// Conn is the bound RTP socket (nil for a Session's).
func (l *PortLease) Conn() *net.UDPConn { return l.conn }

// Port is the RTP port to put in SDP.
func (l *PortLease) Port() int { return l.port }

// Close closes the socket and returns the port; it is idempotent.
func (l *PortLease) Close() error {
	l.once.Do(func() {
		if l.conn != nil {
			l.err = l.conn.Close()
		} else {
			l.err = syscall.Close(l.fd)
		}
		l.alloc.release(l.slot)
	})
	return l.err
}
