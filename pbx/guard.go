package pbx

import (
	"net/netip"
	"sync"
	"time"
)

// authGuard slows SIP password guessing. A source address that fails
// digest authentication too often is refused outright for a while,
// before its credentials are even looked at; an extension that fails too
// often, from however many addresses, is closed for a while to every
// address it is not registered from (a guesser with many addresses).
// Only failures carrying a nonce issued to their source reach it, so a
// spoofed source cannot get an address or an extension blocked without
// seeing our answers.
type authGuard struct {
	now      func() time.Time
	limit    int           // failures of one source within window that block it
	extLimit int           // failures of one extension within window that close it
	window   time.Duration // and for how long a block lasts
	max      int           // entries kept per table
	mu       sync.Mutex
	bySrc    map[string]*guardEntry
	byExt    map[int64]*guardEntry
}

type guardEntry struct {
	failures     int
	first        time.Time
	blockedUntil time.Time
}

const (
	authFailLimit    = 20
	authExtFailLimit = 60
	authFailWindow   = 5 * time.Minute
	maxGuardEntries  = 100_000
)

func newAuthGuard(now func() time.Time) *authGuard {
	return &authGuard{now: now, limit: authFailLimit, extLimit: authExtFailLimit, window: authFailWindow, max: maxGuardEntries,
		bySrc: make(map[string]*guardEntry), byExt: make(map[int64]*guardEntry)}
}

// hostOf keys by address without the port (a guesser changes ports), and
// an IPv6 address by its /64: one subscriber gets a whole /64 and can
// pick a fresh address in it for every guess.
func hostOf(source string) string {
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return source
	}
	a := ap.Addr().Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// blocked reports whether source may not authenticate now.
func (g *authGuard) blocked(source string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bySrc) == 0 {
		return false // nobody failed lately: no key to make (an allocation)
	}
	e := g.bySrc[hostOf(source)]
	return e != nil && g.now().Before(e.blockedUntil)
}

// extensionClosed reports whether extension id takes no credentials now
// (but from the addresses it is registered from).
func (g *authGuard) extensionClosed(id int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.byExt[id]
	return e != nil && g.now().Before(e.blockedUntil)
}

// failed counts a failed authentication from source for extension id (0
// for an unknown user). It reports whether it blocked the source and
// whether it closed the extension.
func (g *authGuard) failed(source string, id int64) (srcBlocked, extClosed bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	srcBlocked = count(g.bySrc, hostOf(source), now, g.limit, g.window, g.max)
	if id != 0 {
		extClosed = count(g.byExt, id, now, g.extLimit, g.window, g.max)
	}
	return srcBlocked, extClosed
}

// count adds a failure to key's entry; true when it reached limit.
func count[K comparable](m map[K]*guardEntry, key K, now time.Time, limit int, window time.Duration, max int) bool {
	e := m[key]
	if e == nil {
		if len(m) >= max && !evict(m, now, window, max) {
			// Full of blocked entries: a flood of distinct sources that
			// each earned a block. Keep those blocks rather than track one
			// more.
			return false
		}
		e = &guardEntry{first: now}
		m[key] = e
	}
	if now.Before(e.blockedUntil) {
		return false
	}
	if now.Sub(e.first) > window {
		e.failures, e.first = 0, now
	}
	e.failures++
	if e.failures >= limit {
		e.blockedUntil = now.Add(window)
		e.failures, e.first = 0, now
		return true
	}
	return false
}

// evict makes room in a full table by forgetting unblocked entries only:
// first those whose window is over, then, if a flood of sources filled
// the table within one window, unblocked ones with the fewest failures,
// down to 7/8 full so a flood pays for the scan once per max/8 entries.
// It reports whether there is room. Blocks are never cleared.
func evict[K comparable](m map[K]*guardEntry, now time.Time, window time.Duration, max int) bool {
	target := max - max/8
	sweepEntries(m, now, window)
	for few := 1; len(m) > target && few < authFailLimit+authExtFailLimit; few++ {
		for k, e := range m {
			if e.failures <= few && !now.Before(e.blockedUntil) {
				delete(m, k)
				if len(m) <= target {
					break
				}
			}
		}
	}
	return len(m) < max
}

// sweep forgets entries whose window and block are over.
func (g *authGuard) sweep() {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	sweepEntries(g.bySrc, now, g.window)
	sweepEntries(g.byExt, now, g.window)
}

func sweepEntries[K comparable](m map[K]*guardEntry, now time.Time, window time.Duration) {
	for k, e := range m {
		if now.Sub(e.first) > window && !now.Before(e.blockedUntil) {
			delete(m, k)
		}
	}
}

// registeredFrom reports whether extension id has a live binding from
// source's address (any port: a phone's source port may change).
func (s *Server) registeredFrom(id int64, source string) bool {
	host := hostOf(source)
	for _, b := range s.location.Lookup(id) {
		if hostOf(b.Source) == host {
			return true
		}
	}
	return false
}
