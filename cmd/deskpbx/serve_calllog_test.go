package main

import (
	"context"
	"testing"
	"time"

	"deskpbx/internal/testphone"
	"deskpbx/pbx"
	"deskpbx/store"
)

// Ada calls Grace three times in a morning: Grace answers the first,
// her phone is busy for the second (Ada leaves no message in her
// mailbox), and Ada dials a number that does not exist. Once the server
// has stopped, the call log holds each call with its outcome; the refused
// one was never answered.
func TestEndedCallsAreInTheCallLog(t *testing.T) {
	dbPath := acmeOffice(t)
	sip, _, stop := serveOffice(t, dbPath)
	defer stop()
	ada, grace := adaAndGrace(t, sip)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	grace.SetAnswer(200)
	d, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("call Grace answers: %v", err)
	}
	<-grace.Incoming
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("hanging up: %v", err)
	}
	grace.SetAnswer(486)
	d, err = ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("call to the busy phone, which her mailbox answers: %v", err)
	}
	<-grace.Incoming
	if err := d.Bye(ctx); err != nil {
		t.Fatalf("hanging up on the mailbox: %v", err)
	}
	if _, err := ada.Dial(ctx, "1099"); testphone.StatusOf(err) != 404 {
		t.Fatalf("call to nobody: %v, want 404", err)
	}
	stop() // the writer empties its queue before the server exits

	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls, err := db.CallLog(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 3 {
		t.Fatalf("call log has %d calls, want 3: %+v", len(calls), calls)
	}
	// Newest first.
	want := []struct{ callee, outcome string }{{"", "failed"}, {"1002@acme.example", "busy"}, {"1002@acme.example", "answered"}}
	for i, c := range calls {
		if c.Callee != want[i].callee || c.Outcome != want[i].outcome || c.Caller != "1001@acme.example" || c.CallID == "" {
			t.Errorf("call %d = %+v, want %s to %q", i, c, want[i].outcome, want[i].callee)
		}
		if c.Started.IsZero() || c.Ended.Before(c.Started) {
			t.Errorf("call %d started %v, ended %v", i, c.Started, c.Ended)
		}
		// The busy call was answered too: by Grace's mailbox.
		if answered := !c.Answered.IsZero(); answered != (c.Outcome != "failed") {
			t.Errorf("call %d (%s) answered at %v", i, c.Outcome, c.Answered)
		}
	}
	per, err := db.CallsPerHour(ctx, calls[0].TenantID, time.Now().Truncate(time.Hour).Add(-23*time.Hour), 24)
	if err != nil {
		t.Fatal(err)
	}
	var answered, missed int
	for _, h := range per {
		answered, missed = answered+h.Answered, missed+h.Missed
	}
	if answered != 1 || missed != 1 {
		t.Errorf("the last day counts %d answered, %d missed; want 1 and 1", answered, missed)
	}
}

// A call through a trunk keeps its direction in the call log, filed
// under the office's tenant whichever way it went.
func TestTrunkCallRecordsKeepTheirDirection(t *testing.T) {
	out := callRecord(pbx.CallEnd{CallID: "c1", Identity: &store.Extension{TenantID: 7, Number: "1001", Domain: "acme.example"},
		Callee: &store.Extension{TenantID: 7, Number: "+15557001", Domain: "provider.test"}, Outcome: pbx.OutcomeBusy,
		Ended: time.Now(), Direction: pbx.DirectionOut})
	if out.Direction != "out" || out.TenantID != 7 || out.Callee != "+15557001@provider.test" {
		t.Errorf("call out recorded as %+v", out)
	}
	in := callRecord(pbx.CallEnd{CallID: "c2", Identity: &store.Extension{TenantID: 7, Number: "+15557777", Domain: "provider.test"},
		Callee: &store.Extension{TenantID: 7, Number: "1001", Domain: "acme.example"}, Outcome: pbx.OutcomeNoAnswer,
		Ended: time.Now(), Direction: pbx.DirectionIn})
	if in.Direction != "in" || in.TenantID != 7 || in.Caller != "+15557777@provider.test" {
		t.Errorf("call in recorded as %+v", in)
	}
}
