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
