package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"deskpbx/store"
)

func TestVoicemailListShowsFolderCallerTimeAndDuration(t *testing.T) {
	t.Parallel()
	path := acmeOffice(t)
	r := deskpbx(t, "voicemail", "list", "-db", path, "acme.example", "1001").mustSucceed(t, "empty mailbox")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 {
		t.Fatalf("an empty mailbox lists:\n%s", r.stdout)
	}

	db := openStore(t, path)
	ctx := context.Background()
	ada, _ := db.LookupExtension(ctx, "acme.example", "1001")
	at := time.Date(2026, 11, 30, 9, 15, 4, 0, time.Local)
	for i, n := range []store.NewVoicemail{
		{CallerNumber: "1002", CallerName: "Grace Hopper", Duration: 12300 * time.Millisecond},
		{CallerNumber: "", Duration: 2 * time.Second},
	} {
		n.ExtensionID, n.At, n.File = ada.ID, at.Add(time.Duration(i)*time.Minute), "vm-test-"+string(rune('a'+i))+".wav"
		m, err := db.AddVoicemail(ctx, n, 0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			db.SetVoicemailFolder(ctx, ada.ID, m.ID, store.FolderSaved)
		}
	}
	r = deskpbx(t, "voicemail", "list", "-db", path, "acme.example", "1001").mustSucceed(t, "voicemail list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and 2 messages:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[1]); f[0] != "new" || f[1] != "unknown" || f[2]+" "+f[3] != "2026-11-30 09:16:04" || f[4] != "2s" {
		t.Errorf("the new message first, from an unknown caller: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "saved" || f[1] != "1002" || !strings.Contains(lines[2], "Grace Hopper") || f[len(f)-1] != "12.3s" {
		t.Errorf("then the saved one from 1002: %q", lines[2])
	}

	deskpbx(t, "voicemail", "list", "-db", path, "acme.example", "1999").mustFail(t, "unknown mailbox", 1, "no extension 1999")
	deskpbx(t, "voicemail", "list", "-db", path, "acme.example").mustFail(t, "no number", 2, "missing arguments")
}

// An admin whose phones show unsolicited message-waiting NOTIFYs wrongly
// turns them off for the tenant, and on again; the change is audited, a
// word other than on or off is refused, and other tenants keep theirs.
func TestTenantSetTurnsUnsolicitedMessageLightsOffAndOn(t *testing.T) {
	t.Parallel()
	path := hotdeskOffice(t)
	r := deskpbx(t, "tenant", "set", "-db", path, "-mwi-unsolicited", "off", "acme.example").mustSucceed(t, "tenant set off")
	if want := "acme.example: unsolicited message-waiting NOTIFYs off"; strings.TrimSpace(r.stdout) != want {
		t.Errorf("tenant set said %q, want %q", r.stdout, want)
	}
	db := openStore(t, path)
	ctx := context.Background()
	acme, _ := db.TenantByDomain(ctx, "acme.example")
	beta, _ := db.TenantByDomain(ctx, "beta.example")
	if acme.MWIUnsolicited || !beta.MWIUnsolicited {
		t.Errorf("after turning acme's off: acme %v, beta %v; want off, on", acme.MWIUnsolicited, beta.MWIUnsolicited)
	}
	audit, _ := db.HotdeskAudit(ctx, acme.ID, 1)
	if len(audit) != 1 || !strings.Contains(audit[0].Detail, "unsolicited message-waiting NOTIFYs off") || !strings.HasPrefix(audit[0].Actor, "cli") {
		t.Errorf("last audit row %+v, want the change by the cli", audit)
	}
	deskpbx(t, "tenant", "set", "-db", path, "-mwi-unsolicited", "maybe", "acme.example").
		mustFail(t, "tenant set maybe", 2, `-mwi-unsolicited "maybe": give on or off`)
	deskpbx(t, "tenant", "set", "-db", path, "-mwi-unsolicited", "on", "acme.example").mustSucceed(t, "tenant set on")
	if acme, _ = db.TenantByDomain(ctx, "acme.example"); !acme.MWIUnsolicited {
		t.Error("unsolicited NOTIFYs still off after -mwi-unsolicited on")
	}
}
