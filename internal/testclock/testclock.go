// Package testclock is a clock that tests move by hand (lockouts, idle
// expiry, auto-logout), safe to read from a server's goroutines.
package testclock

import (
	"sync"
	"time"
)

// Clock reads the time set with Set, or the real time if none was set,
// moved on by every Advance since. The zero Clock is the real time.
type Clock struct {
	mu     sync.Mutex
	at     time.Time
	offset time.Duration
}

// At returns a clock standing at t.
func At(t time.Time) *Clock { return &Clock{at: t} }

// Now is the clock's time; pass the method value where a package takes a
// clock (store.DB.Now, hotdesk.Service.Now).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return time.Now().Add(c.offset)
	}
	return c.at.Add(c.offset)
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.at, c.offset = t, 0
	c.mu.Unlock()
}
