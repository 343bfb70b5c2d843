package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/store"
)

// hotdeskOffice is a database with acme.example (1001-1004, voicemail
// PINs 4826 on 1001 and 6048 on 1004) and beta.example (2001), made through the binary.
func hotdeskOffice(t *testing.T) string {
	t.Helper()
	path := testDB(t)
	deskpbx(t, "tenant", "add", "-db", path, "acme.example").mustSucceed(t, "tenant add acme")
	deskpbx(t, "tenant", "add", "-db", path, "beta.example").mustSucceed(t, "tenant add beta")
	deskpbx(t, "ext", "add", "-db", path, "-password", "secret1", "-pin", "4826", "acme.example", "1001").mustSucceed(t, "ext add")
	for _, n := range []string{"1002", "1003"} {
		deskpbx(t, "ext", "add", "-db", path, "-password", "secret1", "acme.example", n).mustSucceed(t, "ext add")
	}
	deskpbx(t, "ext", "add", "-db", path, "-password", "secret1", "-pin", "6048", "acme.example", "1004").mustSucceed(t, "ext add")
	deskpbx(t, "ext", "add", "-db", path, "-password", "secret1", "beta.example", "2001").mustSucceed(t, "ext add")
	return path
}

// hotdeskOfficeWithID is hotdeskOffice where extension number of
// acme.example has hot-desk ID id, with the database open.
func hotdeskOfficeWithID(t *testing.T, id, number string) (string, *store.DB) {
	t.Helper()
	path := hotdeskOffice(t)
	deskpbx(t, "hotdesk", "add", "-db", path, "-id", id, "acme.example", number).mustSucceed(t, "hotdesk add")
	return path, openStore(t, path)
}

func TestHotdeskAddListLogoutAndUnlock(t *testing.T) {
	t.Parallel()
	path := hotdeskOffice(t)
	r := deskpbx(t, "hotdesk", "add", "-db", path, "-id", "5551001", "-description", "Ada, sales", "acme.example", "1001").mustSucceed(t, "hotdesk add")
	if strings.TrimSpace(r.stdout) != "added hot-desk ID 5551001 for 1001@acme.example" {
		t.Errorf("hotdesk add said %q", r.stdout)
	}
	deskpbx(t, "hotdesk", "add", "-db", path, "-id", "5551002", "-password", "5937", "acme.example", "1002").mustSucceed(t, "hotdesk add -password")
	deskpbx(t, "hotdesk", "add", "-db", path, "-id", "5552001", "-password", "6048", "beta.example", "2001").mustSucceed(t, "hotdesk add beta")

	// Seat two people and lock one ID out, as phones would.
	db := openStore(t, path)
	ctx := context.Background()
	s := hotdesk.New(db, quietLog)
	seat := func(n string) *store.Extension {
		e, err := db.LookupExtension(ctx, "acme.example", n)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	if _, err := s.Login(ctx, "5551001", "4826", seat("1003"), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "5552001", "6048", seat("1004"), ""); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < hotdesk.IDAttempts; i++ {
		s.Login(ctx, "5551002", "0000", seat("1002"), "")
	}

	r = deskpbx(t, "hotdesk", "list", "-db", path, "acme.example").mustSucceed(t, "hotdesk list acme")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("hotdesk list acme.example:\n%s", r.stdout)
	}
	f1, f2 := strings.Fields(lines[1]), strings.Fields(lines[2])
	today := time.Now().Format("2006-01-02")
	if f1[0] != "5551001" || f1[1] != "1001@acme.example" || f1[2] != "1003@acme.example" || f1[3] != today ||
		f1[5] != "1003@acme.example" || f1[6] != "no" || !strings.HasSuffix(lines[1], "Ada, sales") {
		t.Errorf("seated entry listed as %q", lines[1])
	}
	if f2[0] != "5551002" || f2[2] != "-" || f2[3] != "-" || f2[4] != "-" || f2[5] != "until" {
		t.Errorf("locked entry listed as %q", lines[2])
	}
	if r := deskpbx(t, "hotdesk", "list", "-db", path).mustSucceed(t, "hotdesk list"); !strings.Contains(r.stdout, "2001@beta.example") {
		t.Errorf("hotdesk list of all tenants:\n%s", r.stdout)
	}

	r = deskpbx(t, "hotdesk", "unlock", "-db", path, "5551002").mustSucceed(t, "hotdesk unlock")
	if strings.TrimSpace(r.stdout) != "unlocked hot-desk ID 5551002" {
		t.Errorf("hotdesk unlock said %q", r.stdout)
	}
	if _, err := s.Login(ctx, "5551002", "5937", seat("1002"), ""); err != nil {
		t.Errorf("login after hotdesk unlock: %v", err)
	}

	r = deskpbx(t, "hotdesk", "logout", "-db", path, "5551001").mustSucceed(t, "hotdesk logout ID")
	if strings.TrimSpace(r.stdout) != "logged out hot-desk ID 5551001 (1001@acme.example) from 1003@acme.example" {
		t.Errorf("hotdesk logout said %q", r.stdout)
	}
	if _, ok := s.PersonAt(ctx, seat("1003")); ok {
		t.Error("still seated after hotdesk logout")
	}
	r = deskpbx(t, "hotdesk", "logout", "-db", path, "-all", "beta.example").mustSucceed(t, "hotdesk logout -all beta")
	if strings.TrimSpace(r.stdout) != "logged out 1 hot-desk session" {
		t.Errorf("hotdesk logout -all beta.example said %q", r.stdout)
	}
	r = deskpbx(t, "hotdesk", "logout", "-db", path, "-all").mustSucceed(t, "hotdesk logout -all")
	if strings.TrimSpace(r.stdout) != "logged out 1 hot-desk session" {
		t.Errorf("hotdesk logout -all said %q", r.stdout)
	}
	if ss, _ := db.HotdeskSessions(ctx, 0); len(ss) != 0 {
		t.Errorf("%d sessions after logout -all", len(ss))
	}
	audit, _ := db.HotdeskAudit(ctx, 0, 100)
	if audit[0].Action != "force-logout" || !strings.HasPrefix(audit[0].Actor, "cli") {
		t.Errorf("last audit row = %+v, want a force-logout by the cli", audit[0])
	}
}

func TestTenantSetChangesHotdeskSettings(t *testing.T) {
	t.Parallel()
	path := hotdeskOffice(t)
	r := deskpbx(t, "tenant", "set", "-db", path, "-pin", "739155", "-hotdesk-login", "off", "-autologout-at", "19:00",
		"-autologout-after", "10h", "acme.example").mustSucceed(t, "tenant set")
	want := "acme.example: hot-desk login off, logout on, auto-logout daily at 19:00, auto-logout after 10h, company PIN set"
	if strings.TrimSpace(r.stdout) != want {
		t.Errorf("tenant set said %q, want %q", r.stdout, want)
	}
	db := openStore(t, path)
	ctx := context.Background()
	tn, _ := db.TenantByDomain(ctx, "acme.example")
	if tn.HotdeskLogin || !tn.HotdeskLogout || tn.AutologoutAt != "19:00" || tn.AutologoutAfter != 10*time.Hour || !tn.HasCompanyPIN {
		t.Errorf("acme.example after tenant set = %+v", tn)
	}
	deskpbx(t, "tenant", "set", "-db", path, "-no-pin", "-hotdesk-login", "on", "-hotdesk-logout", "off",
		"-autologout-at", "off", "-autologout-after", "off", "acme.example").mustSucceed(t, "tenant set back")
	tn, _ = db.TenantByDomain(ctx, "acme.example")
	if !tn.HotdeskLogin || tn.HotdeskLogout || tn.AutologoutAt != "" || tn.AutologoutAfter != 0 || tn.HasCompanyPIN {
		t.Errorf("acme.example after switching back = %+v", tn)
	}
	if beta, _ := db.TenantByDomain(ctx, "beta.example"); !beta.HotdeskLogin || !beta.HotdeskLogout {
		t.Errorf("a new tenant's hot desking is not on by default: %+v", beta)
	}
}

// TestHotdeskBadInputIsOneLineAndWritesNothing: each mistake is refused
// with one line and the right exit status, and the database is as it was.
func TestHotdeskBadInputIsOneLineAndWritesNothing(t *testing.T) {
	t.Parallel()
	path, db := hotdeskOfficeWithID(t, "5551234", "1001")
	ctx := context.Background()
	before, _ := db.HotdeskAudit(ctx, 0, 100)
	add := func(args ...string) []string { return append([]string{"hotdesk", "add", "-db", path}, args...) }
	set := func(args ...string) []string { return append([]string{"tenant", "set", "-db", path}, args...) }
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"ID held by another tenant", add("-id", "5551234", "beta.example", "2001"), 1, "hot-desk ID 5551234 is already in use"},
		{"second ID for one extension", add("-id", "5559999", "acme.example", "1001"), 1, "1001@acme.example already has a hot-desk ID"},
		{"short ID", add("-id", "555", "acme.example", "1002"), 1, "shorter than 4 digits"},
		{"long ID", add("-id", "1234567890123456", "acme.example", "1002"), 1, "longer than 15 digits"},
		{"ID with letters", add("-id", "55a1234", "acme.example", "1002"), 1, "digits only"},
		{"missing -id", add("acme.example", "1002"), 2, "-id is required"},
		{"short password", add("-id", "5551002", "-password", "482", "acme.example", "1002"), 1, "shorter than 4 digits"},
		{"repeated-digit password", add("-id", "5551002", "-password", "7777", "acme.example", "1002"), 1, "one repeated digit"},
		{"straight-run password", add("-id", "5551002", "-password", "3456", "acme.example", "1002"), 1, "straight run"},
		{"password is the extension", add("-id", "5551002", "-password", "1002", "acme.example", "1002"), 1, "may not be the extension number"},
		{"password is the ID", add("-id", "48264826", "-password", "48264826", "acme.example", "1002"), 1, "may not be the hot-desk ID"},
		{"ID is the voicemail PIN it would open", add("-id", "6048", "acme.example", "1004"), 1, "may not be the voicemail PIN of 1004@acme.example"},
		{"unknown extension", add("-id", "5551009", "acme.example", "1009"), 1, "no extension 1009@acme.example"},
		{"unknown tenant", add("-id", "5551009", "nope.example", "1001"), 1, "no extension 1001@nope.example"},
		{"malformed domain", add("-id", "5551009", "acme_example", "1001"), 1, "not a valid DNS name"},
		{"flag after arguments", add("acme.example", "1002", "-id", "5551002"), 2, "flags go first"},
		{"list too many arguments", []string{"hotdesk", "list", "-db", path, "a.example", "b.example"}, 2, "too many arguments"},
		{"list unknown tenant", []string{"hotdesk", "list", "-db", path, "nope.example"}, 1, "no tenant nope.example"},
		{"logout neither", []string{"hotdesk", "logout", "-db", path}, 2, "give a UNIQUEID, or -all"},
		{"logout both", []string{"hotdesk", "logout", "-db", path, "-all", "5551234"}, 2, "not both"},
		{"logout unknown ID", []string{"hotdesk", "logout", "-db", path, "5550000"}, 1, "no hot-desk ID 5550000"},
		{"logout -all unknown tenant", []string{"hotdesk", "logout", "-db", path, "-all", "nope.example"}, 1, "no tenant nope.example"},
		{"unlock unknown ID", []string{"hotdesk", "unlock", "-db", path, "5550000"}, 1, "no hot-desk ID 5550000"},
		{"unlock without ID", []string{"hotdesk", "unlock", "-db", path}, 2, "missing arguments"},
		{"hotdesk without subcommand", []string{"hotdesk"}, 2, "hotdesk needs a subcommand"},
		{"set nothing", set("acme.example"), 2, "nothing to change"},
		{"set without domain", set("-hotdesk-login", "off"), 2, "missing arguments"},
		{"set login maybe", set("-hotdesk-login", "maybe", "acme.example"), 2, `-hotdesk-login "maybe": give on or off`},
		{"set logout yes", set("-hotdesk-logout", "yes", "acme.example"), 2, "give on or off"},
		{"set time 24:00", set("-autologout-at", "24:00", "acme.example"), 2, "give HH:MM"},
		{"set time 7pm", set("-autologout-at", "7pm", "acme.example"), 2, "give HH:MM"},
		{"set after 8", set("-autologout-after", "8", "acme.example"), 2, "give a duration"},
		{"set after 10s", set("-autologout-after", "10s", "acme.example"), 2, "at least 1m"},
		{"set after negative", set("-autologout-after", "-1h", "acme.example"), 2, "give a duration"},
		{"set pin and no-pin", set("-pin", "7391", "-no-pin", "acme.example"), 2, "not both"},
		{"set empty pin", set("-pin", "", "acme.example"), 2, "use -no-pin"},
		{"set weak pin with other changes", set("-hotdesk-login", "off", "-pin", "1234", "acme.example"), 1, "company PIN is a straight run"},
		{"set pin equal to an ID", set("-pin", "5551234", "acme.example"), 1, "may not be an extension number or hot-desk ID"},
		{"set unknown tenant", set("-hotdesk-login", "off", "nope.example"), 1, "no tenant nope.example"},
		{"set malformed domain", set("-hotdesk-login", "off", "acme..example"), 1, "not a valid DNS name"},
	}
	for _, c := range cases {
		r := deskpbx(t, c.args...)
		r.mustFail(t, c.name, c.code, c.want)
		if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
			t.Errorf("%s: stack trace: %s", c.name, r.stderr)
		}
		if c.name == "ID held by another tenant" && strings.Contains(r.stderr, "acme") {
			t.Errorf("the conflict names the tenant holding the ID: %s", r.stderr)
		}
	}
	entries, _ := db.HotdeskEntries(ctx, 0)
	if len(entries) != 1 || entries[0].HotdeskID != "5551234" {
		t.Errorf("after bad input the entries are %d, want only 5551234", len(entries))
	}
	for _, d := range []string{"acme.example", "beta.example"} {
		tn, _ := db.TenantByDomain(ctx, d)
		if !tn.HotdeskLogin || !tn.HotdeskLogout || tn.AutologoutAt != "" || tn.AutologoutAfter != 0 || tn.HasCompanyPIN {
			t.Errorf("after bad input %s = %+v", d, tn)
		}
	}
	if after, _ := db.HotdeskAudit(ctx, 0, 100); len(after) != len(before) {
		t.Errorf("bad input wrote %d audit rows", len(after)-len(before))
	}
}

func TestHotdeskUnlockSeatLetsALockedPhoneLogInAgain(t *testing.T) {
	t.Parallel()
	path, db := hotdeskOfficeWithID(t, "5551001", "1001")
	ctx := context.Background()
	s := hotdesk.New(db, quietLog)
	phone, err := db.LookupExtension(ctx, "acme.example", "1003")
	if err != nil {
		t.Fatal(err)
	}
	// Guessing unknown IDs from one phone locks the phone.
	for i := 0; i < hotdesk.SeatAttempts; i++ {
		s.Login(ctx, fmt.Sprintf("99990%02d", i), "4826", phone, "")
	}
	if _, err := s.Login(ctx, "5551001", "4826", phone, ""); err == nil {
		t.Fatal("a locked phone logged in")
	}
	r := deskpbx(t, "hotdesk", "unlock", "-db", path, "-seat", "1003@acme.example").mustSucceed(t, "hotdesk unlock -seat")
	if strings.TrimSpace(r.stdout) != "unlocked phone 1003@acme.example" {
		t.Errorf("hotdesk unlock -seat said %q", r.stdout)
	}
	if _, err := s.Login(ctx, "5551001", "4826", phone, ""); err != nil {
		t.Errorf("login at the unlocked phone: %v", err)
	}
	r = deskpbx(t, "hotdesk", "unlock", "-db", path, "-seat", "1003@acme.example").mustSucceed(t, "hotdesk unlock -seat again")
	if strings.TrimSpace(r.stdout) != "phone 1003@acme.example was not locked" {
		t.Errorf("second hotdesk unlock -seat said %q", r.stdout)
	}
	unlocks, _, _ := db.AuditLog(ctx, store.AuditFilter{Action: "unlock"}, 10)
	if len(unlocks) != 1 || unlocks[0].Seat != "1003@acme.example" || !strings.HasPrefix(unlocks[0].Actor, "cli") {
		t.Errorf("unlocks in the audit log: %+v", unlocks)
	}
	deskpbx(t, "hotdesk", "unlock", "-db", path, "-seat", "1003").mustFail(t, "unlock -seat without a domain", 2, "NUMBER@DOMAIN")
}
