package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
)

func TestPortAllocatorEvenPortsAndRelease(t *testing.T) {
	// The odd start rounds up; 43010 is left out as its RTCP port 43011
	// would fall outside the range.
	a, err := NewPortAllocator(43001, 43010)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size() != 4 {
		t.Fatalf("size %d", a.Size())
	}
	var leases []*PortLease
	for {
		l, err := a.Listen(loopback)
		if errors.Is(err, ErrNoPorts) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if l.Port()%2 != 0 || l.Port() < 43002 || l.Port() > 43008 {
			t.Fatalf("port %d", l.Port())
		}
		leases = append(leases, l)
	}
	if len(leases) == 0 || a.InUse() != len(leases) {
		t.Fatalf("%d leases, %d in use", len(leases), a.InUse())
	}
	for _, l := range leases {
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l.Close() // idempotent
	}
	if a.InUse() != 0 {
		t.Fatalf("%d still in use", a.InUse())
	}
}

func TestPortAllocatorSkipsPortsTakenElsewhere(t *testing.T) {
	a, err := NewPortAllocator(43020, 43025)
	if err != nil {
		t.Fatal(err)
	}
	// Another process holds the first port of the range.
	other, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 43020)))
	if err != nil {
		t.Skipf("cannot take port 43020 to set up the test: %v", err)
	}
	defer other.Close()
	l, err := a.Listen(loopback)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Port() == 43020 {
		t.Fatal("handed out a port someone else holds")
	}
	if a.InUse() != 1 {
		t.Fatalf("%d in use after a skipped port", a.InUse())
	}
}

func TestPortAllocatorConcurrent(t *testing.T) {
	a, err := NewPortAllocator(43100, 43399)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[int]bool{}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 5 { // all held at once: 50 of 150 ports, room for a parallel run
				l, err := a.Listen(loopback)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[l.Port()] {
					t.Errorf("port %d leased twice", l.Port())
				}
				seen[l.Port()] = true
				mu.Unlock()
				defer func() {
					mu.Lock()
					delete(seen, l.Port())
					mu.Unlock()
					l.Close()
				}()
			}
		})
	}
	wg.Wait()
	if a.InUse() != 0 {
		t.Fatalf("%d in use after all closed", a.InUse())
	}
}

func TestPortAllocatorBadRange(t *testing.T) {
	for _, r := range [][2]int{{20000, 10000}, {80, 1000}, {60000, 70000}, {10000, 10000}} {
		if _, err := NewPortAllocator(r[0], r[1]); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
}

// Ports kept in reserve go only to priority callers: ordinary calls that
// fill the range leave them free.
func TestPortReserveIsForPriorityOnly(t *testing.T) {
	a, err := NewPortAllocator(38680, 38689) // 5 ports
	if err != nil {
		t.Fatal(err)
	}
	a.SetReserve(2)
	ip := netip.MustParseAddr("127.0.0.1")
	var leases []*PortLease
	t.Cleanup(func() {
		for _, l := range leases {
			l.Close()
		}
	})
	for range 3 {
		l, err := a.Listen(ip)
		if err != nil {
			t.Fatal(err)
		}
		leases = append(leases, l)
	}
	if _, err := a.Listen(ip); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("ordinary Listen into the reserve: %v, want ErrNoPorts", err)
	}
	for range 2 {
		l, err := a.ListenPriority(ip)
		if err != nil {
			t.Fatalf("priority Listen with the reserve free: %v", err)
		}
		leases = append(leases, l)
	}
	if a.InUse() != 5 {
		t.Fatalf("%d in use, want 5", a.InUse())
	}
}
