package store

import (
	"context"
	"testing"
	"time"
)

// An office's day: calls before and after midnight land in their own
// hours of the 24 shown, each tenant sees only its calls, and a call
// placed from one tenant to another is on both tenants' charts.
func TestCallsPerHourAcrossMidnightAndTenants(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acme, _ := db.CreateTenant(ctx, "acme.example", "", false)
	beta, _ := db.CreateTenant(ctx, "beta.example", "", false)
	loc := time.FixedZone("IST", 5*3600+1800) // half-hour offset: buckets follow from, not UTC
	from := time.Date(2026, 11, 29, 13, 0, 0, 0, loc)
	at := func(day, h, m int) time.Time { return time.Date(2026, 11, day, h, m, 0, 0, loc) }
	call := func(tenant, callerTenant int64, callee string, start time.Time, outcome string) {
		t.Helper()
		c := CallRecord{TenantID: tenant, CallerTenantID: callerTenant, CallID: start.String(), Caller: "1001@acme.example",
			Callee: callee, Started: start, Ended: start.Add(time.Minute), Outcome: outcome}
		if outcome == "answered" {
			c.Answered = start.Add(5 * time.Second)
		}
		if err := db.RecordCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	call(acme.ID, acme.ID, "1002@acme.example", at(29, 12, 59), "answered") // before the window
	call(acme.ID, acme.ID, "1002@acme.example", at(29, 13, 0), "answered")  // first hour
	call(acme.ID, acme.ID, "1002@acme.example", at(29, 23, 30), "answered")
	call(acme.ID, acme.ID, "1002@acme.example", at(29, 23, 59), "no_answer")
	call(acme.ID, acme.ID, "1002@acme.example", at(30, 0, 10), "busy")
	call(acme.ID, acme.ID, "1002@acme.example", at(30, 0, 20), "cancelled")
	call(acme.ID, acme.ID, "", at(30, 0, 30), "failed")                    // refused: neither
	call(acme.ID, acme.ID, "", at(30, 0, 40), "answered")                  // voicemail feature: answered
	call(beta.ID, beta.ID, "2001@beta.example", at(30, 0, 15), "answered") // another tenant
	call(beta.ID, acme.ID, "2001@beta.example", at(30, 12, 59), "no_answer")
	call(acme.ID, acme.ID, "1002@acme.example", at(30, 13, 0), "answered") // after the window

	type want struct{ hour, answered, missed int }
	check := func(name string, tenant int64, wants []want) {
		t.Helper()
		got, err := db.CallsPerHour(ctx, tenant, from, 24)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 24 {
			t.Fatalf("%s: %d buckets, want 24", name, len(got))
		}
		exp := make([]CallHour, 24)
		for _, w := range wants {
			exp[w.hour] = CallHour{Answered: w.answered, Missed: w.missed}
		}
		for i, h := range got {
			if !h.Start.Equal(from.Add(time.Duration(i) * time.Hour)) {
				t.Errorf("%s: bucket %d starts %v", name, i, h.Start)
			}
			if h.Answered != exp[i].Answered || h.Missed != exp[i].Missed {
				t.Errorf("%s: hour %d (%s) = %d answered, %d missed; want %d, %d", name, i, h.Start.In(loc).Format("15:04"),
					h.Answered, h.Missed, exp[i].Answered, exp[i].Missed)
			}
		}
	}
	check("acme", acme.ID, []want{{0, 1, 0}, {10, 1, 1}, {11, 1, 2}, {23, 0, 1}})
	check("beta", beta.ID, []want{{11, 1, 0}, {23, 0, 1}})
	check("system", 0, []want{{0, 1, 0}, {10, 1, 1}, {11, 2, 2}, {23, 0, 1}})

	rows, err := db.CallLog(ctx, beta.ID, 10)
	if err != nil || len(rows) != 2 || rows[0].Outcome != "no_answer" || !rows[1].Answered.Equal(at(30, 0, 15).Add(5*time.Second)) {
		t.Errorf("beta's call log = %+v, %v", rows, err)
	}

	n, err := db.SweepCallLog(ctx, at(30, 0, 0))
	if err != nil || n != 4 {
		t.Errorf("sweep before midnight removed %d, %v; want 4", n, err)
	}
	if rows, _ := db.CallLog(ctx, 0, 100); len(rows) != 7 {
		t.Errorf("after the sweep %d calls remain, want 7", len(rows))
	}
}

// Calls through trunks are on the chart: a customer nobody answered is a
// missed call, an outside number that was busy when we called is not;
// the log keeps which way each went.
func TestTrunkCallsOnTheChartByDirection(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acme, _ := db.CreateTenant(ctx, "acme.example", "", false)
	from := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	for i, c := range []struct{ caller, callee, outcome, direction string }{
		{"+15557777@provider.test", "1001@acme.example", "no_answer", "in"},
		{"1001@acme.example", "+15557001@provider.test", "busy", "out"},
		{"1001@acme.example", "+15557002@provider.test", "answered", "out"},
	} {
		start := from.Add(time.Duration(i) * time.Minute)
		r := CallRecord{TenantID: acme.ID, CallID: c.callee, Caller: c.caller, Callee: c.callee, Started: start,
			Ended: start.Add(time.Second), Outcome: c.outcome, Direction: c.direction}
		if c.outcome == "answered" {
			r.Answered = start
		}
		if err := db.RecordCall(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	hours, err := db.CallsPerHour(ctx, acme.ID, from, 1)
	if err != nil || len(hours) != 1 || hours[0].Answered != 1 || hours[0].Missed != 1 {
		t.Fatalf("hour with a missed call in, a busy call out and an answered call out: %+v, %v; want 1 answered, 1 missed", hours, err)
	}
	rows, err := db.CallLog(ctx, acme.ID, 10)
	if err != nil || len(rows) != 3 || rows[0].Direction != "out" || rows[2].Direction != "in" {
		t.Fatalf("call log = %+v, %v; want the directions kept", rows, err)
	}
}

// Hot-desk logins per hour come from the audit log: logins and moves that
// succeeded, by the person's or the phone's tenant; failures and logouts
// are not logins.
func TestLoginsPerHourFromTheAuditLog(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acme, _ := db.CreateTenant(ctx, "acme.example", "", false)
	beta, _ := db.CreateTenant(ctx, "beta.example", "", false)
	from := time.Date(2026, 11, 29, 18, 0, 0, 0, time.UTC)
	audit := func(tenant, seatTenant int64, at time.Time, action, outcome string) {
		t.Helper()
		if err := db.RecordAudit(ctx, AuditEntry{At: at, TenantID: tenant, SeatTenantID: seatTenant, Actor: "x", Action: action, Outcome: outcome}); err != nil {
			t.Fatal(err)
		}
	}
	audit(acme.ID, acme.ID, from.Add(-time.Minute), "login", "ok")
	audit(acme.ID, acme.ID, from.Add(5*time.Hour+50*time.Minute), "login", "ok") // 23:50
	audit(acme.ID, acme.ID, from.Add(6*time.Hour+10*time.Minute), "move", "ok")  // 00:10
	audit(acme.ID, acme.ID, from.Add(6*time.Hour+20*time.Minute), "login", "ok")
	audit(acme.ID, acme.ID, from.Add(6*time.Hour+30*time.Minute), "failed", "bad_pin")
	audit(acme.ID, acme.ID, from.Add(6*time.Hour+40*time.Minute), "logout", "ok")
	audit(beta.ID, acme.ID, from.Add(7*time.Hour), "login", "ok") // beta's person at acme's phone
	audit(beta.ID, beta.ID, from.Add(8*time.Hour), "login", "ok")

	for _, tc := range []struct {
		name   string
		tenant int64
		want   map[int]int
	}{
		{"acme", acme.ID, map[int]int{5: 1, 6: 2, 7: 1}},
		{"beta", beta.ID, map[int]int{7: 1, 8: 1}},
		{"system", 0, map[int]int{5: 1, 6: 2, 7: 1, 8: 1}},
	} {
		got, err := db.LoginsPerHour(ctx, tc.tenant, from, 24)
		if err != nil || len(got) != 24 {
			t.Fatalf("%s: %d buckets, %v", tc.name, len(got), err)
		}
		for i, h := range got {
			if h.Logins != tc.want[i] {
				t.Errorf("%s: hour %d = %d logins, want %d", tc.name, i, h.Logins, tc.want[i])
			}
		}
	}
}

// BenchmarkRecordCall is what one call log row costs the writer
// (go test -run '^$' -bench RecordCall ./store).
func BenchmarkRecordCall(b *testing.B) {
	ctx := context.Background()
	db, err := Open(b.TempDir() + "/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tn, _ := db.CreateTenant(ctx, "acme.example", "", false)
	now := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.RecordCall(ctx, CallRecord{TenantID: tn.ID, CallID: "x", Caller: "1001@acme.example",
			Callee: "1002@acme.example", Started: now, Answered: now, Ended: now, Outcome: "answered"}); err != nil {
			b.Fatal(err)
		}
	}
}
