package admin

import (
	"net"
	"strings"
	"sync"
	"time"
)

// limiter counts failed logins per username and per client address and
// locks either out for a while once it has too many. It lives in memory:
// a restart is rare and slow enough not to matter to an online guesser.
type limiter struct {
	mu      sync.Mutex
	now     func() time.Time
	max     map[string]int // by key kind: "user", "ip"
	window  time.Duration
	entries map[string]*failures
}

type failures struct {
	count  int
	first  time.Time
	locked time.Time // locked until
}

// maxLimiterEntries bounds memory when someone sprays usernames or
// addresses; past it, the oldest entries that are not locked go first.
const maxLimiterEntries = 100_000

func newLimiter(now func() time.Time, userMax, ipMax int, window time.Duration) *limiter {
	return &limiter{now: now, max: map[string]int{"user": userMax, "ip": ipMax}, window: window, entries: map[string]*failures{}}
}

// limitKeys are the counters one login attempt touches.
func limitKeys(username, clientIP string) []string {
	return []string{"user:" + username, "ip:" + ipBucket(clientIP)}
}

// ipBucket groups IPv6 clients by /64: one host usually owns a whole one.
func ipBucket(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// locked returns how long the longest lock among keys still lasts.
func (l *limiter) locked(keys []string) time.Duration {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	var longest time.Duration
	for _, k := range keys {
		if f := l.entries[k]; f != nil && f.locked.After(now) {
			longest = max(longest, f.locked.Sub(now))
		}
	}
	return longest
}

// fail records a failed login against every key.
func (l *limiter) fail(keys []string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		f := l.entries[k]
		if f == nil || now.Sub(f.first) > l.window && !f.locked.After(now) {
			if f == nil && len(l.entries) >= maxLimiterEntries {
				l.evict(now)
			}
			f = &failures{first: now}
			l.entries[k] = f
		}
		f.count++
		kind, _, _ := strings.Cut(k, ":")
		if f.count >= l.max[kind] {
			f.locked = now.Add(l.window)
		}
	}
}

// succeed forgets the username's failures; the address keeps its count,
// so one valid account cannot be used to reset a guesser's budget.
func (l *limiter) succeed(keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := l.entries[keys[0]]; f != nil && !f.locked.After(l.now()) {
		delete(l.entries, keys[0])
	}
}

func (l *limiter) sweep() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, f := range l.entries {
		if now.Sub(f.first) > l.window && !f.locked.After(now) {
			delete(l.entries, k)
		}
	}
}

func (l *limiter) evict(now time.Time) {
	var oldestKey string
	var oldest time.Time
	for k, f := range l.entries {
		if now.Sub(f.first) > l.window && !f.locked.After(now) {
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
