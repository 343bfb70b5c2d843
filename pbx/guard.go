package pbx

import (
	"net"
	"sync"
	"time"
)

// authGuard slows SIP password guessing: a source address that fails
// digest authentication too often is refused outright for a while,
// before its credentials are even looked at.
type authGuard struct {
	now    func() time.Time
	limit  int           // failures within window that block
	window time.Duration // and for how long a block lasts
	mu     sync.Mutex
	bySrc  map[string]*guardEntry
}

type guardEntry struct {
	failures     int
	first        time.Time
	blockedUntil time.Time
}

const (
	authFailLimit   = 20
	authFailWindow  = 5 * time.Minute
	maxGuardEntries = 100_000
)

func newAuthGuard(now func() time.Time) *authGuard {
	return &authGuard{now: now, limit: authFailLimit, window: authFailWindow, bySrc: make(map[string]*guardEntry)}
}

// hostOf keys by address without the port: a guesser changes ports.
func hostOf(source string) string {
	if h, _, err := net.SplitHostPort(source); err == nil {
		return h
	}
	return source
}

// blocked reports whether source may not authenticate now.
func (g *authGuard) blocked(source string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.bySrc[hostOf(source)]
	return e != nil && g.now().Before(e.blockedUntil)
}

// failed counts a failed authentication from source; it reports whether
// that failure blocked the source.
func (g *authGuard) failed(source string) bool {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	key := hostOf(source)
	e := g.bySrc[key]
	if e == nil || now.Sub(e.first) > g.window {
		if len(g.bySrc) >= maxGuardEntries {
			g.bySrc = make(map[string]*guardEntry) // a flood of sources: start over
		}
		e = &guardEntry{first: now}
		g.bySrc[key] = e
	}
	e.failures++
	if e.failures >= g.limit {
		e.blockedUntil = now.Add(g.window)
		e.failures, e.first = 0, now
		return true
	}
	return false
}

// sweep forgets sources whose window and block are over.
func (g *authGuard) sweep() {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, e := range g.bySrc {
		if now.Sub(e.first) > g.window && !now.Before(e.blockedUntil) {
			delete(g.bySrc, k)
		}
	}
}
