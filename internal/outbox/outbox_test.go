package outbox

import (
	"context"
	"testing"
	"time"
)

// With nothing due and an idle wait far longer than the test, only a
// Kick makes the loop work again, and a pending Kick is not lost while
// the loop works; the loop ends with its context.
func TestLoopWorksOnKickAndEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	k := NewKick()
	worked := make(chan int)
	n := 0
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		Loop(ctx, k, time.Hour, time.Now,
			func(context.Context) (time.Time, bool, error) { return time.Time{}, false, nil },
			func(ctx context.Context) {
				n++
				select {
				case worked <- n:
				case <-ctx.Done():
				}
			})
	}()
	if got := <-worked; got != 1 {
		t.Fatalf("first pass %d, want 1", got)
	}
	k.Wake()
	k.Wake() // covered by the one pending: never blocks
	if got := <-worked; got != 2 {
		t.Fatalf("pass after a kick %d, want 2", got)
	}
	cancel()
	<-ended
}

// A row due already (in the past) wakes the loop without a Kick.
func TestLoopWakesWhenARowIsDue(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	worked := make(chan struct{})
	go Loop(ctx, NewKick(), time.Hour, time.Now,
		func(context.Context) (time.Time, bool, error) { return time.Now().Add(-time.Second), true, nil },
		func(ctx context.Context) {
			select {
			case worked <- struct{}{}:
			case <-ctx.Done():
			}
		})
	<-worked
	<-worked
}
