package admin

import (
	"net"
	"sync"
	"time"
)

// limiter counts login attempts per (username, client address) and per
// client address, and locks either out for a while once it has too many.
// It lives in memory: a restart is rare and slow enough not to matter to
// an online guesser.
//
// There is deliberately no lock per username alone: the username "admin"
// is well known, and such a lock lets anyone on the internet keep the
// real admin out. A guesser is held back per address it owns instead, with
// a lock that doubles each time it is earned again.
//
// An attempt is counted before its password is checked (begin), and
// handed back when it succeeds (succeed): counting after the check let
// forty parallel requests all reach bcrypt before the first was counted.
type limiter struct {
	mu       sync.Mutex
	now      func() time.Time
	pairMax  int // attempts per username and address before a lock
	addrMax  int // attempts per address (any username) before a lock
	window   time.Duration
	pairBase time.Duration // first lock of a (username, address); doubles up to window
	entries  map[string]*failures
}

type failures struct {
	count   int
	strikes int // locks earned so far, for the backoff
	first   time.Time
	locked  time.Time // locked until
}

// maxLimiterEntries bounds memory when someone sprays usernames or
// addresses; past it, the oldest entries that are not locked go first.
const maxLimiterEntries = 100_000

func newLimiter(now func() time.Time, userMax, ipMax int, window time.Duration) *limiter {
	return &limiter{now: now, pairMax: userMax, addrMax: ipMax, window: window,
		pairBase: max(window/15, time.Second), entries: map[string]*failures{}}
}

// loginKeys are the counters one login attempt touches: the pair first.
type loginKeys [2]string

func limitKeys(username, clientIP string) loginKeys {
	b := ipBucket(clientIP)
	return loginKeys{"pair:" + username + "\x00" + b, "ip:" + b}
}

// ipBucket groups IPv6 clients by /64: one host usually owns a whole one.
func ipBucket(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// begin counts one attempt against both keys, unless either is locked;
// then it returns how long the longest lock still lasts and counts
// nothing. The attempt that reaches a limit is still let through (it is
// within the budget) but sets the lock for the ones after it.
func (l *limiter) begin(keys loginKeys) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if longest := l.longestLock(keys, now); longest > 0 {
		return longest
	}
	for i, k := range keys {
		f := l.entry(k, now)
		f.count++
		if i == 0 && f.count >= l.pairMax {
			f.strikes++
			f.locked = now.Add(min(l.window, l.pairBase<<min(f.strikes-1, 20)))
			f.count = 0
		} else if i == 1 && f.count >= l.addrMax {
			f.locked = now.Add(l.window)
		}
	}
	return 0
}

// entry returns the live counter of k, starting a new count when the old
// one's window has passed. The strikes of a pair survive until a whole
// window has gone by since its last lock ended.
func (l *limiter) entry(k string, now time.Time) *failures {
	f := l.entries[k]
	if f == nil {
		if len(l.entries) >= maxLimiterEntries {
			l.evict(now)
		}
		f = &failures{first: now}
		l.entries[k] = f
		return f
	}
	if now.Sub(f.first) > l.window {
		f.count, f.first = 0, now
		if now.Sub(f.locked) > l.window {
			f.strikes = 0
		}
	}
	return f
}

// locked returns how long the longest lock among keys still lasts,
// without counting anything.
func (l *limiter) locked(keys loginKeys) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.longestLock(keys, now)
}

// longestLock is how long the longest lock among keys lasts after now;
// l.mu is held.
func (l *limiter) longestLock(keys loginKeys, now time.Time) time.Duration {
	var longest time.Duration
	for _, k := range keys {
		if f := l.entries[k]; f != nil && f.locked.After(now) {
			longest = max(longest, f.locked.Sub(now))
		}
	}
	return longest
}

// succeed hands back the attempt begin counted: the pair is forgotten
// (its owner knows the password), and the address gets its one attempt
// back, so one valid account cannot reset a guesser's budget but a
// right password is never held against its address.
func (l *limiter) succeed(keys loginKeys) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, keys[0])
	if f := l.entries[keys[1]]; f != nil && f.count > 0 {
		f.count--
		if f.count < l.addrMax {
			f.locked = time.Time{}
		}
	}
}

func (l *limiter) sweep() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, f := range l.entries {
		if l.stale(f, now) {
			delete(l.entries, k)
		}
	}
}

// stale: nothing counted within the window, no lock, and no strikes
// worth keeping.
func (l *limiter) stale(f *failures, now time.Time) bool {
	return now.Sub(f.first) > l.window && !f.locked.After(now) && now.Sub(f.locked) > l.window
}

func (l *limiter) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, f := range l.entries {
		if l.stale(f, now) {
			delete(l.entries, k)
			continue
		}
		if !f.locked.After(now) && (oldestKey == "" || f.first.Before(oldest)) {
			oldestKey, oldest = k, f.first
		}
	}
	if len(l.entries) >= maxLimiterEntries && oldestKey != "" {
		delete(l.entries, oldestKey)
	}
}
