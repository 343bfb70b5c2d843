package lamps_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"deskpbx/internal/testphone"
	"deskpbx/presence"
)

// BenchmarkDialogFanOut1000 measures one person's state change reaching
// 1,000 dialog subscriptions (50 phones of 1004 with 20 BLF keys each
// on Ada, the per-phone bound raised for it):
// each op is one change and the wait until every subscriber has its
// NOTIFY. The phones run in the same process, so cpu-ms/change counts
// both ends. Run: go test -run - -bench DialogFanOut -benchtime 50x ./internal/lamps
func BenchmarkDialogFanOut1000(b *testing.B) {
	o := newOffice(b)
	o.srv.SetSubscriptionLimits(1000, 0)
	var subs []*testphone.Subscription
	for i := 0; i < 50; i++ {
		p := o.phone("1004")
		for j := 0; j < 20; j++ {
			sub, res := p.Subscribe("1001", "dialog", 3600)
			if res.StatusCode != 200 {
				b.Fatalf("subscription %d: %d", len(subs), res.StatusCode)
			}
			sub.Next()
			subs = append(subs, sub)
		}
	}
	ctx := context.Background()
	ada, grace := o.ext("1001"), o.ext("1002")
	states := [...]presence.State{presence.Early, presence.Confirmed, presence.Terminated}
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b.ResetTimer()
	start := cpu()
	for i := 0; i < b.N; i++ {
		o.people.Update(ctx, presence.Call{ID: "bench", Identity: ada, Peer: grace, Outgoing: true, State: states[i%3]})
		for _, sub := range subs {
			select {
			case <-sub.Notifies:
			case <-time.After(30 * time.Second):
				b.Fatal("a subscriber got no NOTIFY within 30 s")
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*len(subs))/b.Elapsed().Seconds(), "NOTIFY/s")
	b.ReportMetric(float64((cpu()-start)/time.Microsecond)/1000/float64(b.N), "cpu-ms/change")
}
