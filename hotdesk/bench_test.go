package hotdesk

import (
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"deskpbx/store"
)

// BenchmarkLogin is the server's share of "session live < 5 ms p99 after
// the final '#'": checking the password and committing the move, each
// login moving the person between two phones and replacing nobody. It
// reports the p50 and p99 of single logins alongside ns/op.
func BenchmarkLogin(b *testing.B) {
	o := newOffice(b)
	o.s.Now = time.Now // real time: lockout windows and session starts move on
	o.hotdesker("1001", "5551001", "5937")
	seats := []*store.Extension{o.ext("1003"), o.ext("1004")}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if _, err := o.s.Login(o.ctx, "5551001", "5937", seats[i%2], "192.0.2.10:5060"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	reportLatency(b, lat)
}

// BenchmarkLoginRush is the nine o'clock rush at its worst: eight people
// press '#' at the same instant, each at another phone than last time,
// and their logins queue for SQLite's one writer. One op is one burst;
// p50/p99 are of the single logins in it.
func BenchmarkLoginRush(b *testing.B) {
	o := newOffice(b)
	o.s.Now = time.Now
	o.db.Now = time.Now
	const people = 8
	var ids []string
	for n := 1001; n < 1001+people; n++ {
		id := "555" + strconv.Itoa(n)
		o.hotdesker(strconv.Itoa(n), id, "5937")
		ids = append(ids, id)
	}
	var seats []*store.Extension
	for n := 1001; n <= 1009; n++ {
		seats = append(seats, o.ext(strconv.Itoa(n)))
	}
	var lat []time.Duration
	round := 0
	for b.Loop() {
		start := make(chan struct{})
		got := make(chan time.Duration, people)
		var wg sync.WaitGroup
		for p := range people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				t := time.Now()
				if _, err := o.s.Login(o.ctx, ids[p], "5937", seats[(p+round)%len(seats)], ""); err != nil {
					b.Error(err)
				}
				got <- time.Since(t)
			}()
		}
		close(start)
		wg.Wait()
		close(got)
		for d := range got {
			lat = append(lat, d)
		}
		round++
	}
	reportLatency(b, lat)
}

// BenchmarkPersonAt is what every call pays to learn who is seated at the
// calling phone.
func BenchmarkPersonAt(b *testing.B) {
	o := newOffice(b)
	o.hotdesker("1001", "5551001", "5937")
	o.mustLogin("5551001", "5937", "1003")
	seat := o.ext("1003")
	for b.Loop() {
		if _, ok := o.s.PersonAt(o.ctx, seat); !ok {
			b.Fatal("nobody seated")
		}
	}
}

// reportLatency reports the median and 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
