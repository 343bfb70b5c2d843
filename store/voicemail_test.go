package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMailboxDefaultsAndSettings(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Mailbox(ctx, e.ID)
	if err != nil || !m.Enabled || m.NoAnswer != 0 || m.GreetingFile != "" {
		t.Fatalf("a new extension's mailbox = %+v, %v; want on, server timeout, no greeting", m, err)
	}
	off, after, mail := false, 12*time.Second, "ada@acme.example"
	if err := db.SetMailbox(ctx, e.ID, MailboxChange{Enabled: &off, NoAnswer: &after, Email: &mail}); err != nil {
		t.Fatal(err)
	}
	if old, err := db.SetMailboxRecording(ctx, e.ID, RecordingGreeting, "g1.wav"); err != nil || old != "" {
		t.Fatalf("first greeting replaced %q, %v", old, err)
	}
	if old, _ := db.SetMailboxRecording(ctx, e.ID, RecordingGreeting, "g2.wav"); old != "g1.wav" {
		t.Fatalf("second greeting replaced %q, want g1.wav", old)
	}
	m, _ = db.Mailbox(ctx, e.ID)
	if m.Enabled || m.NoAnswer != after || m.Email != mail || m.GreetingFile != "g2.wav" {
		t.Fatalf("mailbox after changes = %+v", m)
	}
	bad := 2 * time.Second
	if err := db.SetMailbox(ctx, e.ID, MailboxChange{NoAnswer: &bad}); ErrorCode(err) != EINVALID {
		t.Fatalf("a 2 s no-answer timeout: %v, want invalid", err)
	}
	for _, pin := range []string{"1111", "1234", "1001", "12"} {
		if err := db.SetVoicemailPIN(ctx, e.ID, pin, "test"); ErrorCode(err) != EINVALID {
			t.Errorf("weak PIN %s accepted: %v", pin, err)
		}
	}
	if err := db.SetVoicemailPIN(ctx, e.ID, "4826", "test"); err != nil {
		t.Fatal(err)
	}
	e, _ = db.ExtensionByID(ctx, e.ID)
	if !CheckPIN(e.PINHash, "4826") {
		t.Fatal("new voicemail PIN does not check")
	}
}

func TestVoicemailPINMayNotBeTheHotdeskIDWhereverItIsSet(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x", PIN: "4826"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5907", PIN: "3185"}, "test"); err != nil {
		t.Fatal(err)
	}
	// The phone's *97 menu and the PIN-reset page...
	if err := db.SetVoicemailPIN(ctx, e.ID, "5907", "test"); ErrorCode(err) != EINVALID {
		t.Fatalf("SetVoicemailPIN took the hot-desk ID: %v", err)
	}
	// ...and the extension's own edit form.
	if _, err := db.UpdateExtension(ctx, e.ID, ExtensionUpdate{PIN: "5907"}); ErrorCode(err) != EINVALID || FieldOf(err) != "pin" {
		t.Fatalf("UpdateExtension took the hot-desk ID: %v", err)
	}
	got, _ := db.ExtensionByID(ctx, e.ID)
	if !CheckPIN(got.PINHash, "4826") {
		t.Fatal("a refused PIN changed the stored one")
	}
	if _, err := db.UpdateExtension(ctx, e.ID, ExtensionUpdate{PIN: "7350"}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.ExtensionByID(ctx, e.ID)
	if !CheckPIN(got.PINHash, "7350") {
		t.Fatal("another PIN was refused or not stored")
	}
}

func TestVoicemailLimitFoldersAndSweep(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, _ := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x"})
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	add := func(file string) (*VoicemailMessage, error) {
		return db.AddVoicemail(ctx, NewVoicemail{ExtensionID: e.ID, CallerNumber: "1002", CallerName: "Bob",
			At: at, Duration: 3500 * time.Millisecond, File: file}, 2)
	}
	first, err := add("a.wav")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := add("b.wav"); err != nil {
		t.Fatal(err)
	}
	if _, err := add("c.wav"); err != ErrMailboxFull {
		t.Fatalf("third message into a mailbox of 2: %v, want mailbox full", err)
	}
	if err := db.SetVoicemailFolder(ctx, e.ID, first.ID, FolderSaved); err != nil {
		t.Fatal(err)
	}
	if n, s, err := db.VoicemailCounts(ctx, e.ID); n != 1 || s != 1 || err != nil {
		t.Fatalf("counts = %d new %d saved, %v; want 1 and 1", n, s, err)
	}
	list, _ := db.VoicemailMessages(ctx, e.ID)
	if len(list) != 2 || list[0].File != "b.wav" || list[1].Folder != FolderSaved || list[1].Duration != 3500*time.Millisecond {
		t.Fatalf("list = %+v %+v; want the new one first", list[0], list[1])
	}
	if err := db.DeleteVoicemail(ctx, e.ID+1, first.ID); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("deleting a message through another mailbox: %v", err)
	}
	db.SetMailboxRecording(ctx, e.ID, RecordingName, "name.wav")
	n, err := db.DropVoicemailRowsWithout(ctx, func(f string) bool { return f == "b.wav" || f == "name.wav" })
	if err != nil || n != 2 {
		t.Fatalf("dropped %d rows, %v; want 2", n, err)
	}
	files, _ := db.VoicemailFiles(ctx)
	if len(files) != 1 || !files["a.wav"] {
		t.Fatalf("files listed after the sweep: %v", files)
	}
}

func TestMailboxLockoutCountsInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	now := time.Now()
	var n int
	for i := 0; i < 3; i++ {
		err := db.MailboxTx(ctx, func(tx *MailboxTx) (err error) {
			n, err = tx.AddFailure(LockMailbox, "7", now.Add(time.Duration(i)*time.Second), time.Minute)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != 3 {
		t.Fatalf("3 failures counted as %d", n)
	}
	db.MailboxTx(ctx, func(tx *MailboxTx) error { return tx.Lock(LockMailbox, "7", now.Add(time.Hour)) })
	var until time.Time
	db.MailboxTx(ctx, func(tx *MailboxTx) (err error) { until, err = tx.LockedUntil(LockMailbox, "7"); return })
	if !until.After(now) {
		t.Fatal("lock not kept")
	}
}

// Ada logs in at other desks with her hot-desk ID and her voicemail PIN;
// colleagues see the ID typed. Setting her PIN to that ID, at the phone
// or by an admin, is refused: the ID would open both her seat and her
// mailbox.
func TestVoicemailPINMayNotBeTheHotdeskID(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	db.CreateTenant(ctx, "acme.example", "", false)
	e, err := db.CreateExtension(ctx, NewExtension{Domain: "acme.example", Number: "1001", Password: "s3cret!x", PIN: "4826"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateHotdeskEntry(ctx, NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551234"}, "test"); err != nil {
		t.Fatal(err)
	}
	err = db.SetVoicemailPIN(ctx, e.ID, "5551234", "1001@acme.example (*97/*98)")
	if ErrorCode(err) != EINVALID || FieldOf(err) != "pin" || !strings.Contains(err.Error(), "hot-desk ID") {
		t.Fatalf("voicemail PIN = own hot-desk ID: %v, want refused", err)
	}
	if e, _ = db.ExtensionByID(ctx, e.ID); !CheckPIN(e.PINHash, "4826") {
		t.Fatal("the refused PIN replaced the old one")
	}
}
