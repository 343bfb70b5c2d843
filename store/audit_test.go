package store

import (
	"context"
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
	want := "admin:alice extension deleted: 1070@acme.example\nadmin:alice extension added: 1070@acme.example"
	if got := adminChanges(t, db); got != want {
		t.Fatalf("audit log:\n%s\nwant:\n%s", got, want)
	}
}

// adminChanges is the admin-change audit log, newest first, a line a row:
// "actor outcome: detail".
func adminChanges(t *testing.T, db *DB) string {
	t.Helper()
	rows, _, err := db.AuditLog(context.Background(), AuditFilter{Action: "admin-change"}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Actor+" "+r.Outcome+": "+r.Detail)
	}
	return strings.Join(got, "\n")
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

func TestATenantsCompanyPINAtCreationIsAudited(t *testing.T) {
	db := openTest(t)
	ctx := WithActor(context.Background(), "admin:alice")
	if _, err := db.CreateTenant(ctx, "acme.example", "123", false); ErrorCode(err) != EINVALID || FieldOf(err) != "company_pin" {
		t.Fatalf("company PIN 123: %v (field %q), want invalid company_pin", err, FieldOf(err))
	}
	tn, err := db.CreateTenant(ctx, "acme.example", "482619", false)
	if err != nil || !tn.HasCompanyPIN {
		t.Fatalf("CreateTenant with a PIN: %+v, %v", tn, err)
	}
	if got, want := adminChanges(t, db), "admin:alice tenant added: acme.example, company PIN set"; got != want {
		t.Fatalf("audit log:\n%s\nwant:\n%s", got, want)
	}
}

func TestATenantsDefaultMarkAndHotdeskSettingsCommitTogetherWithTheirAuditRows(t *testing.T) {
	db, ctx := hotdeskTest(t)
	// Refused: the company PIN is an extension number of beta, so the
	// default mark saved with it does not move either, and nothing is logged.
	u := TenantUpdate{HotdeskSettings: HotdeskSettings{CompanyPIN: ptr("2001"), Login: ptr(false)}, MakeDefault: true}
	if _, err := db.UpdateTenant(ctx, "beta.example", u, "admin:alice"); ErrorCode(err) != EINVALID || FieldOf(err) != "company_pin" {
		t.Fatalf("company PIN 2001 at beta: %v (field %q), want invalid company_pin", err, FieldOf(err))
	}
	if d, err := db.DefaultTenant(ctx); err != nil || d.Domain != "acme.example" {
		t.Fatalf("default after the refused change: %v %v, want acme.example", d, err)
	}
	if b, _ := db.TenantByDomain(ctx, "beta.example"); b.HasCompanyPIN || !b.HotdeskLogin {
		t.Fatalf("beta after the refused change: %+v, want it unchanged", b)
	}
	if got := adminChanges(t, db); got != "" {
		t.Fatalf("audit log after the refused change:\n%s\nwant it empty", got)
	}
	u.CompanyPIN = ptr("482619")
	b, err := db.UpdateTenant(ctx, "beta.example", u, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Default || !b.HasCompanyPIN || b.HotdeskLogin {
		t.Fatalf("beta after the change: %+v, want default, company PIN, login off", b)
	}
	want := "admin:alice default tenant: beta.example is now the default tenant\n" +
		"admin:alice ok: tenant beta.example: company PIN set, login off"
	if got := adminChanges(t, db); got != want {
		t.Fatalf("audit log:\n%s\nwant:\n%s", got, want)
	}
}
