package store

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBindingWriter is the binding writer under a registration
// storm: per op, one binding refreshed, committed in batches of 64 as
// the registrar's group commit makes them, 1,000 extensions.
func BenchmarkBindingWriter(b *testing.B) {
	ctx := context.Background()
	db := openTest(b)
	db.CreateTenant(ctx, "acme.example", "", false)
	const users, batch = 1000, 64
	ids := make([]int64, users)
	for i := range ids {
		e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: strconv.Itoa(10000 + i), Password: "s3cret!x-" + strconv.Itoa(i)})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = e.ID
	}
	w := db.NewBindingWriter(nil, nil)
	defer w.Close()
	done := make(chan error, 1)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		changes := make([]BindingChange, 0, batch)
		for j := i; j < min(i+batch, b.N); j++ {
			n := strconv.Itoa(10000 + j%users)
			changes = append(changes, BindingChange{Binding: Binding{ExtensionID: ids[j%users], Contact: "sip:" + n + "@127.0.0.1:5062;transport=udp",
				Source: "127.0.0.1:5062", Transport: "udp", CallID: "bench-" + n + "@127.0.0.1", CSeq: uint32(j), UserAgent: "SIPp",
				Expires: now.Add(time.Hour), Updated: now}})
		}
		w.Commit(changes, func(err error) { done <- err })
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
