package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func init() { AdminPasswordCost = bcrypt.MinCost }

func TestFirstAdminIsCreatedOnceAndLogsIn(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	pw := GeneratePassword()
	a, created, err := db.CreateFirstAdmin(ctx, "admin", pw)
	if err != nil || !created || !a.System() {
		t.Fatalf("first admin: %+v created=%v err=%v", a, created, err)
	}
	if _, created, _ := db.CreateFirstAdmin(ctx, "admin2", GeneratePassword()); created {
		t.Fatal("a second first admin was created")
	}
	if got, err := db.AuthenticateAdmin(ctx, "ADMIN", pw); err != nil || got.ID != a.ID {
		t.Fatalf("login with the right password (name in other case): %v", err)
	}
	_, wrong := db.AuthenticateAdmin(ctx, "admin", pw+"x")
	_, unknown := db.AuthenticateAdmin(ctx, "nobody", pw)
	if ErrorCode(wrong) != EUNAUTHORIZED || ErrorCode(unknown) != EUNAUTHORIZED || wrong.Error() != unknown.Error() {
		t.Fatalf("wrong password %v and unknown user %v should fail alike", wrong, unknown)
	}
}

func TestAdminPasswordsThatAttackersTryFirstAreRefused(t *testing.T) {
	for pw, reason := range map[string]string{
		"":                  "empty",
		"short1!":           "shorter than 10",
		"aaaaaaaaaaaa":      "fewer than 5",
		"Password123":       "password",
		"grace-is-the-boss": "username",
	} {
		err := ValidAdminPassword(pw, "grace")
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("%q: %v, want a reason with %q", pw, err, reason)
		}
	}
	if err := ValidAdminPassword("correct horse battery", "grace"); err != nil {
		t.Errorf("a passphrase was refused: %v", err)
	}
}

func TestTenantAdminGoesWithItsTenantAndLastSystemAdminStays(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	root, _, _ := db.CreateFirstAdmin(ctx, "admin", GeneratePassword())
	db.CreateTenant(ctx, "main.example", "", true)
	acme, _ := db.CreateTenant(ctx, "acme.example", "", false)
	ta, err := db.CreateAdmin(ctx, "boss", GeneratePassword(), acme.ID)
	if err != nil || ta.System() || ta.Domain != "acme.example" {
		t.Fatalf("tenant admin: %+v %v", ta, err)
	}
	if _, err := db.CreateAdmin(ctx, "Boss", GeneratePassword(), 0); ErrorCode(err) != ECONFLICT {
		t.Fatalf("duplicate username in other case: %v, want conflict", err)
	}
	if err := db.DeleteAdmin(ctx, root.ID); ErrorCode(err) != EINVALID {
		t.Fatalf("deleting the last system admin: %v, want refused", err)
	}
	if err := db.DeleteTenant(ctx, acme.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdminByID(ctx, ta.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("tenant admin outlived its tenant: %v", err)
	}
}

func TestSessionsIdleOutAndEndWithAPasswordChange(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Now()
	db.Now = func() time.Time { return now }
	a, _, _ := db.CreateFirstAdmin(ctx, "admin", GeneratePassword())
	tok, err := db.CreateAdminSession(ctx, a.ID, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := db.AdminSession(ctx, tok, time.Minute, time.Hour); err != nil || s.Admin.ID != a.ID {
		t.Fatalf("fresh session: %v", err)
	}
	if _, err := db.AdminSession(ctx, tok+"x", time.Minute, time.Hour); ErrorCode(err) != ENOTFOUND {
		t.Fatal("a wrong session ID was accepted")
	}
	now = now.Add(50 * time.Second)
	db.TouchAdminSession(ctx, tok)
	now = now.Add(50 * time.Second)
	if _, err := db.AdminSession(ctx, tok, time.Minute, time.Hour); err != nil {
		t.Fatalf("session touched 50 s ago: %v", err)
	}
	now = now.Add(61 * time.Second)
	if _, err := db.AdminSession(ctx, tok, time.Minute, time.Hour); ErrorCode(err) != ENOTFOUND {
		t.Fatal("idle session still valid")
	}
	tok, _ = db.CreateAdminSession(ctx, a.ID, "")
	if err := db.SetAdminPassword(ctx, a.ID, "a brand new passphrase"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdminSession(ctx, tok, time.Minute, time.Hour); ErrorCode(err) != ENOTFOUND {
		t.Fatal("session survived a password change")
	}
}

func TestAPITokensAreShownOnceAndRevocableOnlyByTheirOwner(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a, _, _ := db.CreateFirstAdmin(ctx, "admin", GeneratePassword())
	b, _ := db.CreateAdmin(ctx, "other", GeneratePassword(), 0)
	tok, info, err := db.CreateAPIToken(ctx, a.ID, "backup script")
	if err != nil || !strings.HasPrefix(tok, "dpx_") {
		t.Fatalf("token %q: %v", tok, err)
	}
	if got, err := db.AdminByAPIToken(ctx, tok); err != nil || got.ID != a.ID {
		t.Fatalf("token lookup: %v", err)
	}
	if list, _ := db.APITokens(ctx, a.ID); len(list) != 1 || list[0].LastUsed.IsZero() {
		t.Fatalf("token list %+v: want one, marked used", list)
	}
	if err := db.DeleteAPIToken(ctx, b.ID, info.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("another admin revoked the token: %v", err)
	}
	if err := db.DeleteAPIToken(ctx, a.ID, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdminByAPIToken(ctx, tok); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatalf("revoked token: %v", err)
	}
}

func TestNewSIPPasswordIsStoredAsHA1OfTheTenantRealm(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "first-secret"})
	if err != nil {
		t.Fatal(err)
	}
	name := "Ada Lovelace"
	got, err := db.UpdateExtension(ctx, e.ID, ExtensionUpdate{Name: &name, Password: "Kettle-Orbit-77", PIN: "4826"})
	if err != nil {
		t.Fatal(err)
	}
	if got.HA1MD5 != HA1MD5("1001", "acme.example", "Kettle-Orbit-77") || got.HA1SHA256 != HA1SHA256("1001", "acme.example", "Kettle-Orbit-77") {
		t.Fatal("HA1 not recomputed for realm acme.example")
	}
	if got.DisplayName != name || !CheckPIN(got.PINHash, "4826") {
		t.Fatalf("name %q / PIN not updated", got.DisplayName)
	}
	got, _ = db.UpdateExtension(ctx, e.ID, ExtensionUpdate{ClearPIN: true})
	if got.PINHash != "" || got.HA1MD5 != HA1MD5("1001", "acme.example", "Kettle-Orbit-77") {
		t.Fatal("clearing the PIN changed the password or kept the PIN")
	}
	for pw, reason := range map[string]string{"abc12": "shorter than 6", "x1001yzw": "extension number", "acme-4711-x": "domain", "abababab": "fewer than 5", "password1": "password"} {
		_, err := db.UpdateExtension(ctx, e.ID, ExtensionUpdate{Password: pw})
		if err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("password %q: %v, want reason %q", pw, err, reason)
		}
	}
	if _, err := db.UpdateExtension(ctx, e.ID, ExtensionUpdate{PIN: "1001"}); err == nil {
		t.Error("PIN equal to the extension number was accepted")
	}
	if err := db.DeleteExtension(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteExtension(ctx, e.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("second delete: %v", err)
	}
}

func TestDefaultTenantIsDeletedOnlyWhenLast(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a, _ := db.CreateTenant(ctx, "a.example", "", false)
	b, _ := db.CreateTenant(ctx, "b.example", "", false)
	if err := db.DeleteTenant(ctx, a.ID); ErrorCode(err) != EINVALID {
		t.Fatalf("deleting the default with another tenant left: %v", err)
	}
	if _, err := db.UpdateTenant(ctx, "b.example", TenantUpdate{MakeDefault: true}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteTenant(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	pin := "1234"
	if _, err := db.UpdateTenant(ctx, "b.example", TenantUpdate{HotdeskSettings: HotdeskSettings{CompanyPIN: &pin}}, "test"); ErrorCode(err) != EINVALID {
		t.Fatalf("weak company PIN: %v", err)
	}
	pin = "482619"
	if got, _ := db.UpdateTenant(ctx, "b.example", TenantUpdate{HotdeskSettings: HotdeskSettings{CompanyPIN: &pin}}, "test"); !got.HasCompanyPIN || !got.Default {
		t.Fatalf("after PIN: %+v", got)
	}
	if err := db.DeleteTenant(ctx, b.ID); err != nil {
		t.Fatalf("deleting the last, default, tenant: %v", err)
	}
}

func TestHotdeskIDChangesStayUniqueAndAreAudited(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "a.example", "", false)
	db.CreateTenant(ctx, "b.example", "", false)
	for _, n := range []NewExtension{
		{Domain: "a.example", Number: "1001", Password: "first-secret", PIN: "4826"},
		{Domain: "b.example", Number: "2001", Password: "first-secret"},
	} {
		if _, err := db.CreateExtension(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "a.example", Number: "1001", HotdeskID: "5001"}, "test"); err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "b.example", Number: "2001", HotdeskID: "6001", PIN: "7391"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	taken := "5001"
	_, err = db.UpdateHotdeskEntry(ctx, "6001", HotdeskEntryUpdate{HotdeskID: &taken}, "admin:x")
	if ErrorCode(err) != ECONFLICT || strings.Contains(err.Error(), "a.example") {
		t.Fatalf("taking another tenant's ID: %v", err)
	}
	own := "7391"
	if _, err := db.UpdateHotdeskEntry(ctx, "6001", HotdeskEntryUpdate{HotdeskID: &own}, "admin:x"); ErrorCode(err) != EINVALID {
		t.Fatalf("ID equal to the own password: %v", err)
	}
	vm := "4826"
	if _, err := db.UpdateHotdeskEntry(ctx, "5001", HotdeskEntryUpdate{HotdeskID: &vm}, "admin:x"); ErrorCode(err) != EINVALID {
		t.Fatalf("ID equal to the voicemail PIN: %v", err)
	}
	next, desc := "6002", "corner_desk 100%"
	got, err := db.UpdateHotdeskEntry(ctx, "6001", HotdeskEntryUpdate{HotdeskID: &next, Description: &desc}, "admin:x")
	if err != nil || got.HotdeskID != "6002" || got.Description != desc || got.Person.ID != b.Person.ID {
		t.Fatalf("update: %+v %v", got, err)
	}
	if e, err := db.HotdeskEntryOf(ctx, b.Person.ID); err != nil || e.HotdeskID != "6002" {
		t.Fatalf("entry of the extension: %+v %v", e, err)
	}
	// The audit log pages newest first and filters; LIKE wildcards typed
	// into the search match only themselves.
	entries, more, err := db.AuditLog(ctx, AuditFilter{TenantID: b.Person.TenantID}, 1)
	if err != nil || len(entries) != 1 || !more || !strings.Contains(entries[0].Detail, "changed from 6001") {
		t.Fatalf("first page: %+v more=%v %v", entries, more, err)
	}
	older, more, _ := db.AuditLog(ctx, AuditFilter{TenantID: b.Person.TenantID, Before: entries[0].ID}, 10)
	if len(older) != 1 || more || older[0].ID >= entries[0].ID {
		t.Fatalf("second page: %+v more=%v", older, more)
	}
	if found, _, _ := db.AuditLog(ctx, AuditFilter{Text: "%"}, 10); len(found) != 0 {
		t.Fatalf("%% matched %d entries", len(found))
	}
	if found, _, _ := db.AuditLog(ctx, AuditFilter{Text: "6001", Action: "admin-change"}, 10); len(found) != 2 {
		t.Fatalf("search 6001: %d entries, want 2", len(found))
	}
	actions, outcomes, err := db.AuditValues(ctx, 0)
	if err != nil || len(actions) != 1 || actions[0] != "admin-change" || len(outcomes) != 1 {
		t.Fatalf("values: %v %v %v", actions, outcomes, err)
	}
}
