package store

import (
	"context"
	"sort"
	"testing"
	"time"
)

// oneExtension is a database holding extension 1001 of acme.example,
// its clock stopped at the now it returns.
func oneExtension(t *testing.T) (*DB, *Extension, time.Time) {
	t.Helper()
	db := openTest(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x"})
	if err != nil {
		t.Fatal(err)
	}
	return db, e, now
}

// One commit holds upserts, some with strings no SIP parser should let
// through (quotes, backslashes, NUL, invalid UTF-8), and deletes between
// them: every binding must come back byte for byte, in the order of the
// changes, and a row of a deleted extension is skipped.
func TestBindingWriterKeepsOrderAndBytesAcrossStatementKinds(t *testing.T) {
	ctx := context.Background()
	db, e, now := oneExtension(t)
	bind := func(contact, ua string, cseq uint32) BindingChange {
		return BindingChange{Binding: Binding{ExtensionID: e.ID, Contact: contact, Source: "127.0.0.1:5062", Transport: "udp",
			CallID: "call-1@127.0.0.1", CSeq: cseq, UserAgent: ua, Expires: now.Add(time.Hour), Updated: now}}
	}
	odd := "Phone \"X\" \\ v1.0 ünïcode\x00\x01 \xff"
	del := func(contact string) BindingChange {
		return BindingChange{Binding: Binding{ExtensionID: e.ID, Contact: contact}, Delete: true}
	}
	ghost := bind("sip:ghost@127.0.0.1", "plain", 1)
	ghost.ExtensionID = 9999
	changes := []BindingChange{
		bind("sip:a@127.0.0.1", "plain", 1),
		bind("sip:a@127.0.0.1", "plain", 2), // the later row for the same contact wins
		bind("sip:b@127.0.0.1", odd, 3),
		bind("sip:c@127.0.0.1", "plain", 4),
		del("sip:c@127.0.0.1"), // after its insert: c is gone
		del("sip:d@127.0.0.1"),
		bind("sip:d@127.0.0.1", "plain", 5), // after its delete: d stays
		ghost,
		bind("sip:b@127.0.0.1", odd+"!", 6),
	}
	var batches, dones int
	w := db.NewBindingWriter(nil, func() { batches++ })
	done := make(chan error, 1)
	w.Commit(changes, func(err error) { dones++; done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if batches < 1 || dones != 1 {
		t.Fatalf("afterBatch ran %d times, done %d times: want after each batch, once", batches, dones)
	}
	bs, err := db.LoadBindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].Contact < bs[j].Contact })
	want := []BindingChange{changes[1], changes[8], changes[6]}
	if len(bs) != len(want) {
		t.Fatalf("bindings = %+v, want %d", bs, len(want))
	}
	for i, w := range want {
		got := bs[i]
		if got.ExtensionID != w.ExtensionID || got.Contact != w.Contact || got.Source != w.Source || got.Transport != w.Transport ||
			got.CallID != w.CallID || got.CSeq != w.CSeq || got.UserAgent != w.UserAgent || !got.Expires.Equal(w.Expires) || !got.Updated.Equal(w.Updated) {
			t.Errorf("binding %d = %+v, want %+v", i, got, w.Binding)
		}
	}
}

// afterBatch runs on the writer's goroutine after the dones of each
// batch, never before one of them nor for nothing.
func TestBindingWriterAfterBatchFollowsTheBatchesDones(t *testing.T) {
	db := openTest(t)
	var events []byte // both run on the writer's goroutine; read after Close
	w := db.NewBindingWriter(nil, func() { events = append(events, 'a') })
	const n = 500
	for i := 0; i < n; i++ {
		b := Binding{ExtensionID: 1, Contact: "sip:x@127.0.0.1", Expires: time.Now().Add(time.Hour)}
		w.Commit([]BindingChange{{Binding: b}}, func(error) { events = append(events, 'd') })
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	dones, after := 0, 0
	for i, e := range events {
		switch {
		case e == 'd':
			dones++
		case i == 0 || events[i-1] != 'd':
			t.Fatalf("afterBatch ran without a done before it: %s", events)
		default:
			after++
		}
	}
	if dones != n || after == 0 || events[len(events)-1] != 'a' {
		t.Fatalf("%d dones, %d afterBatch, last %q: want %d dones, each batch followed by afterBatch", dones, after, events[len(events)-1], n)
	}
}

// A batch SQLite refuses (a contact the schema's CHECK rejects) fails as
// a whole, its valid rows included, and tells its caller so; the writer
// then carries on with the next batch.
func TestBindingWriterFailedBatchLeavesNothingAndTheNextCommits(t *testing.T) {
	ctx := context.Background()
	db, e, now := oneExtension(t)
	w := db.NewBindingWriter(nil, nil)
	defer w.Close()
	commit := func(contacts ...string) error {
		var changes []BindingChange
		for _, c := range contacts {
			changes = append(changes, BindingChange{Binding: Binding{ExtensionID: e.ID, Contact: c, Expires: now.Add(time.Hour)}})
		}
		done := make(chan error, 1)
		w.Commit(changes, func(err error) { done <- err })
		return <-done
	}
	if err := commit("sip:a@127.0.0.1", ""); err == nil {
		t.Fatal("a batch with an empty contact committed")
	}
	if err := commit("sip:b@127.0.0.1"); err != nil {
		t.Fatalf("the batch after a failed one: %v", err)
	}
	bs, err := db.LoadBindings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Contact != "sip:b@127.0.0.1" {
		t.Fatalf("bindings = %+v, want only the later batch's", bs)
	}
}
