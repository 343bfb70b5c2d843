// Package outbox is the wake-up loop shared by deskpbx's durable
// outboxes (webhook deliveries, voicemail e-mail). Their rows in the
// database are the queue; this only decides when to look at it again.
package outbox

import (
	"context"
	"time"
)

// Kick wakes a Loop early. Make it with NewKick.
type Kick chan struct{}

// NewKick is a Kick that remembers one wake-up while the loop is busy.
func NewKick() Kick { return make(Kick, 1) }

// Wake makes the loop look at the outbox now. It never blocks: a wake-up
// already pending covers this one.
func (k Kick) Wake() {
	select {
	case k <- struct{}{}:
	default:
	}
}

// Loop runs work, then sleeps until the earliest of: the next row falls
// due (by next, judged against now), idle has passed (another process
// may add rows without a Kick), a Kick; and again, until ctx ends.
func Loop(ctx context.Context, k Kick, idle time.Duration, now func() time.Time,
	next func(context.Context) (time.Time, bool, error), work func(context.Context)) {
	for {
		work(ctx)
		wait := idle
		if at, ok, err := next(ctx); err == nil && ok {
			wait = min(max(at.Sub(now()), 0), idle)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-k:
		case <-t.C:
		}
		t.Stop()
	}
}
