package store

import (
	"strings"
	"testing"
)

func TestTheAuditLogIsAppendOnly(t *testing.T) {
	db, ctx := hotdeskTest(t)
	db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551001"}, "test")
	if _, err := db.sql.Exec(`UPDATE audit_log SET actor = 'nobody'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("audit row rewritten: %v", err)
	}
	if _, err := db.sql.Exec(`DELETE FROM audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Errorf("audit rows deleted: %v", err)
	}
	if rows, _ := db.HotdeskAudit(ctx, 0, 10); len(rows) != 1 {
		t.Errorf("audit log after the attempts = %+v, want the one entry", rows)
	}
}

func TestAnAdminChangeAndItsAuditRowCommitTogether(t *testing.T) {
	db, ctx := hotdeskTest(t)
	ctx = WithActor(ctx, "admin:alice")
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1070", Password: "Kettle-Orbit-70"})
	if err != nil {
		t.Fatal(err)
	}
	// Refused: nothing changed, so nothing is logged.
	if _, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1070", Password: "Kettle-Orbit-70"}); ErrorCode(err) != ECONFLICT || FieldOf(err) != "number" {
		t.Fatalf("second 1070: %v (field %q), want a conflict on number", err, FieldOf(err))
	}
	if err := db.DeleteExtension(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	rows, _, err := db.AuditLog(ctx, AuditFilter{Action: "admin-change"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Actor+" "+r.Outcome+": "+r.Detail)
	}
	want := "admin:alice extension deleted: 1070@acme.example\nadmin:alice extension added: 1070@acme.example"
	if strings.Join(got, "\n") != want {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
}

func TestStoreErrorsNameTheirField(t *testing.T) {
	db, ctx := hotdeskTest(t)
	cases := []struct {
		err   error
		field string
	}{
		{ValidDomain("10.0.0.1"), "domain"},
		{ValidNumber("12a"), "number"},
		{ValidHotdeskID("12"), "hotdesk_id"},
		{ValidHotdeskPIN("1001", "1001", "5551001"), "pin"},
	}
	_, err := db.SetTenantHotdesk(ctx, "acme.example", HotdeskSettings{AutologoutAt: ptr("25:00")}, "test")
	cases = append(cases, struct {
		err   error
		field string
	}{err, "autologout_at"})
	for _, c := range cases {
		if ErrorCode(c.err) != EINVALID || FieldOf(c.err) != c.field {
			t.Errorf("%v: code %s field %q, want invalid %q", c.err, ErrorCode(c.err), FieldOf(c.err), c.field)
		}
	}
}
