package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

// hotdeskTest is acme.example with 1001-1004 (voicemail PIN 4826 on 1001)
// and beta.example with 2001.
func hotdeskTest(t *testing.T) (*DB, context.Context) {
	t.Helper()
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	db.CreateTenant(ctx, "beta.example", "", false)
	rows := []NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "secret1", PIN: "4826"},
		{Domain: "acme.example", Number: "1002", Password: "secret1"},
		{Domain: "acme.example", Number: "1003", Password: "secret1"},
		{Domain: "acme.example", Number: "1004", Password: "secret1"},
		{Domain: "beta.example", Number: "2001", Password: "secret1"},
	}
	if err := db.ImportExtensions(ctx, rows); err != nil {
		t.Fatal(err)
	}
	return db, ctx
}

func TestHotdeskIDIsUniqueAcrossTenants(t *testing.T) {
	db, ctx := hotdeskTest(t)
	if _, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551234"}, "test"); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "beta.example", Number: "2001", HotdeskID: "5551234", PIN: "5937"}, "test")
	if ErrorCode(err) != ECONFLICT || err.Error() != "hot-desk ID 5551234 is already in use" {
		t.Errorf("duplicate ID in another tenant: %v", err)
	}
	// The database itself refuses it, whatever code writes.
	beta, _ := db.LookupExtension(ctx, "beta.example", "2001")
	_, err = db.sql.Exec(`INSERT INTO hotdesk_entries (extension_id, hotdesk_id, created_at) VALUES (?, '5551234', 0)`, beta.ID)
	if !isUniqueViolation(err) {
		t.Errorf("raw insert of a duplicate ID: %v", err)
	}
	for _, bad := range []string{"555", "5551234567890123", "55a1234", ""} {
		if _, err := db.sql.Exec(`INSERT INTO hotdesk_entries (extension_id, hotdesk_id, created_at) VALUES (?, ?, 0)`, beta.ID, bad); !isConstraintViolation(err) {
			t.Errorf("raw insert of ID %q: %v", bad, err)
		}
	}
}

func TestOnePersonPerPhoneOnePhonePerPersonIsADatabaseFact(t *testing.T) {
	db, ctx := hotdeskTest(t)
	a, _ := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551001"}, "test")
	b, _ := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1002", HotdeskID: "5551002", PIN: "5937"}, "test")
	p3, _ := db.LookupExtension(ctx, "acme.example", "1003")
	p4, _ := db.LookupExtension(ctx, "acme.example", "1004")
	now := time.Now()
	err := db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		if err := tx.StartSession(a.Person.ID, p3.ID, now, SeatedByCode, ""); err != nil {
			t.Fatal(err)
		}
		if err := tx.StartSession(a.Person.ID, p4.ID, now, SeatedByCode, ""); ErrorCode(err) != ECONFLICT {
			t.Errorf("one person at two phones: %v", err)
		}
		if err := tx.StartSession(b.Person.ID, p3.ID, now, SeatedByCode, ""); ErrorCode(err) != ECONFLICT {
			t.Errorf("two people at one phone: %v", err)
		}
		if err := tx.StartSession(b.Person.ID, p4.ID, now, "phone", ""); err == nil {
			t.Error("a session started by an unknown means")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := db.PersonAt(ctx, p3.ID); got == nil || got.ID != a.Person.ID {
		t.Errorf("PersonAt(1003) = %v", got)
	}
	// Deleting the phone's extension ends the session with it.
	if _, err := db.sql.Exec(`DELETE FROM extensions WHERE id = ?`, p3.ID); err != nil {
		t.Fatal(err)
	}
	if ss, _ := db.HotdeskSessions(ctx, 0); len(ss) != 0 {
		t.Errorf("session outlived its phone's extension: %+v", ss[0])
	}
}

func TestPerCallLookupsAreSingleIndexedQueries(t *testing.T) {
	db, _ := hotdeskTest(t)
	for name, q := range map[string]string{
		"PersonAt": `SELECT ` + extensionCols + ` FROM hotdesk_sessions s JOIN extensions e ON e.id = s.person_id
			JOIN tenants t ON t.id = e.tenant_id WHERE s.device_id = 1`,
		"RingTarget": `SELECT ` + extensionCols + ` FROM hotdesk_sessions s JOIN hotdesk_entries h ON h.extension_id = s.person_id
			JOIN extensions e ON e.id = coalesce(h.dial_override_id, s.device_id) JOIN tenants t ON t.id = e.tenant_id WHERE s.person_id = 1`,
		"Entry": hotdeskLoginQuery,
	} {
		rows, err := db.sql.Query(`EXPLAIN QUERY PLAN `+q, "5551234")
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			rows.Scan(&id, &parent, &notused, &detail)
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN") {
				t.Errorf("%s scans a table: %v", name, plan)
			}
		}
	}
}

func TestWeakHotdeskSecretsAreRefused(t *testing.T) {
	db, ctx := hotdeskTest(t)
	cases := []struct {
		n    NewHotdeskEntry
		want string
	}{
		{NewHotdeskEntry{Number: "1002", HotdeskID: "555"}, "shorter than 4 digits"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "5551002", PIN: "593"}, "shorter than 4 digits"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "5551002", PIN: "5555"}, "one repeated digit"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "5551002", PIN: "6543"}, "straight run"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "5551002", PIN: "1002"}, "may not be the extension number"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "59375937", PIN: "59375937"}, "may not be the hot-desk ID"},
		{NewHotdeskEntry{Number: "1001", HotdeskID: "4826"}, "may not be the voicemail PIN"},
		{NewHotdeskEntry{Number: "1002", HotdeskID: "5551002", Description: "a\nb"}, "control characters"},
	}
	for _, c := range cases {
		c.n.Domain = "acme.example"
		if _, err := db.CreateHotdeskEntry(ctx, c.n, "test"); ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want invalid: %s", c.n, err, c.want)
		}
	}
	if es, _ := db.HotdeskEntries(ctx, 0); len(es) != 0 {
		t.Fatalf("refused entries were written: %d", len(es))
	}
	db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1002", HotdeskID: "5551002"}, "test")
	for _, pin := range []string{"1234", "0000", "1002", "5551002"} {
		if _, err := db.UpdateHotdeskEntry(ctx, "5551002", HotdeskEntryUpdate{PIN: ptr(pin)}, "test"); ErrorCode(err) != EINVALID {
			t.Errorf("SetHotdeskPIN(%q) = %v", pin, err)
		}
	}
	pin := "5551002"
	if _, err := db.SetTenantHotdesk(ctx, "acme.example", HotdeskSettings{CompanyPIN: &pin}, "test"); ErrorCode(err) != EINVALID {
		t.Errorf("company PIN equal to an ID: %v", err)
	}
	pin = "739155"
	db.SetTenantHotdesk(ctx, "acme.example", HotdeskSettings{CompanyPIN: &pin}, "test")
	if _, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1003", HotdeskID: "739155", PIN: "5937"}, "test"); ErrorCode(err) != EINVALID {
		t.Errorf("ID equal to the company PIN that opens it: %v", err)
	}
}

func TestTenantHotdeskSettings(t *testing.T) {
	db, ctx := hotdeskTest(t)
	tn, _ := db.TenantByDomain(ctx, "acme.example")
	if !tn.HotdeskLogin || !tn.HotdeskLogout || tn.AutologoutAt != "" || tn.AutologoutAfter != 0 {
		t.Fatalf("defaults = %+v, want login and logout on, no auto-logout", tn)
	}
	off, at, after := false, "18:30", 9*time.Hour
	tn, err := db.SetTenantHotdesk(ctx, "acme.example", HotdeskSettings{Login: &off, AutologoutAt: &at, AutologoutAfter: &after}, "alice")
	if err != nil || tn.HotdeskLogin || !tn.HotdeskLogout || tn.AutologoutAt != "18:30" || tn.AutologoutAfter != 9*time.Hour {
		t.Fatalf("after set = %+v, %v", tn, err)
	}
	for _, bad := range []HotdeskSettings{
		{AutologoutAt: ptr("24:00")}, {AutologoutAt: ptr("9:00")}, {AutologoutAt: ptr("09:60")},
		{AutologoutAfter: ptr(30 * time.Second)}, {AutologoutAfter: ptr(-time.Hour)}, {AutologoutAfter: ptr(90*time.Minute + time.Millisecond)},
		{CompanyPIN: ptr("1111")}, {CompanyPIN: ptr("48261")}, {CompanyPIN: ptr("121212")}, {Login: &off, CompanyPIN: ptr("12")}, {},
	} {
		if _, err := db.SetTenantHotdesk(ctx, "acme.example", bad, "alice"); ErrorCode(err) != EINVALID {
			t.Errorf("SetTenantHotdesk(%+v) = %v, want invalid", bad, err)
		}
	}
	if _, err := db.SetTenantHotdesk(ctx, "nope.example", HotdeskSettings{Login: &off}, "alice"); ErrorCode(err) != ENOTFOUND {
		t.Errorf("unknown tenant: %v", err)
	}
	if got, _ := db.TenantByDomain(ctx, "acme.example"); *got != *tn {
		t.Errorf("refused changes were written: %+v, was %+v", got, tn)
	}
	// The schema holds the line too.
	for _, q := range []string{`UPDATE tenants SET autologout_at = '24:00'`, `UPDATE tenants SET autologout_at = '7pm'`,
		`UPDATE tenants SET autologout_after = 0`, `UPDATE tenants SET hotdesk_login = 2`} {
		if _, err := db.sql.Exec(q); !isConstraintViolation(err) {
			t.Errorf("%s: %v", q, err)
		}
	}
	rows, _ := db.HotdeskAudit(ctx, tn.ID, 10)
	if len(rows) != 1 || rows[0].Action != "admin-change" || rows[0].Actor != "alice" || !strings.Contains(rows[0].Detail, "login off") {
		t.Errorf("audit = %+v", rows)
	}
}

func TestLockoutCountsFailuresInTheWindowOnly(t *testing.T) {
	db, ctx := hotdeskTest(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db.HotdeskTx(ctx, func(tx *HotdeskTx) error {
		for i, want := range []int{1, 2, 3, 3, 3} { // one failure every 7 minutes, 15-minute window
			n, err := tx.AddFailure(LockID, "5551001", t0.Add(time.Duration(i)*7*time.Minute), 15*time.Minute)
			if err != nil || n != want {
				t.Errorf("failure %d: count %d (%v), want %d", i, n, err, want)
			}
		}
		if err := tx.Lock(LockID, "5551001", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if until, _ := tx.LockedUntil(LockID, "5551001"); !until.Equal(t0.Add(time.Hour)) {
			t.Errorf("locked until %v", until)
		}
		if n, _ := tx.AddFailure(LockID, "5551001", t0.Add(30*time.Minute), 15*time.Minute); n != 1 {
			t.Errorf("a lockout did not restart the count: %d", n)
		}
		return nil
	})
	if err := db.PruneHotdeskLockout(ctx, t0.Add(2*time.Hour), 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	var n int
	db.sql.QueryRow(`SELECT (SELECT count(*) FROM hotdesk_failures) + (SELECT count(*) FROM hotdesk_locks)`).Scan(&n)
	if n != 0 {
		t.Errorf("%d stale lockout rows after pruning", n)
	}
}

func ptr[T any](v T) *T { return &v }
