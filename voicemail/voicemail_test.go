package voicemail

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"deskpbx/store"
)

func testDB(t *testing.T) (*store.DB, *store.Extension, *store.Extension) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	db.CreateTenant(ctx, "acme.example", "", false)
	ada, err := db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1001", Password: "pw-1001-x", PIN: "4826"})
	if err != nil {
		t.Fatal(err)
	}
	desk, _ := db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1003", Password: "pw-1003-x"})
	return db, ada, desk
}

func tone(f float64, secs float64) []int16 {
	out := make([]int16, int(secs*sampleRate))
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*f*float64(i)/sampleRate))
	}
	return out
}

func TestWAVRoundTripAndSoxReadsIt(t *testing.T) {
	pcm := tone(440, 1.5)
	b := encodeWAV(pcm)
	got, err := DecodeWAV(b)
	if err != nil || len(got) != len(pcm) || got[100] != pcm[100] {
		t.Fatalf("round trip: %d samples, %v", len(got), err)
	}
	if _, err := DecodeWAV(b[:20]); !errors.Is(err, ErrNotOurWAV) {
		t.Fatalf("a truncated header decodes: %v", err)
	}
	sox, err := exec.LookPath("soxi")
	if err != nil {
		t.Skip("soxi not installed")
	}
	path := filepath.Join(t.TempDir(), "m.wav")
	os.WriteFile(path, b, 0o600)
	out, err := exec.Command(sox, path).CombinedOutput()
	if err != nil {
		t.Fatalf("soxi: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 1", "Sample Rate    : 8000", "Precision      : 16-bit", "00:00:01.50", "Signed Integer PCM"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("soxi does not say %q:\n%s", want, out)
		}
	}
}

func TestCrashMidDepositListsNoMessageWithoutAudio(t *testing.T) {
	ctx := context.Background()
	db, ada, _ := testDB(t)
	dir := filepath.Join(t.TempDir(), "data")
	s, err := New(ctx, db, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, %v; want created 0700", fi, err)
	}
	kept, err := s.Deposit(ctx, ada, Caller{Number: "1002", Name: "Grace"}, tone(440, 2))
	if err != nil {
		t.Fatal(err)
	}
	// A crash after the file was written and before its row: a file no
	// row names.
	orphan := newFileName(ada, "msg", db.Now())
	if err := writeDurable(dir, orphan, encodeWAV(tone(440, 2))); err != nil {
		t.Fatal(err)
	}
	// And a row whose file is gone (a disk restored from an older backup).
	if _, err := db.AddVoicemail(ctx, store.NewVoicemail{ExtensionID: ada.ID, At: db.Now(), Duration: 2e9, File: "vm-lost.wav"}, 0); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("an admin's file"), 0o600)

	s, err = New(ctx, db, dir, nil) // the restart
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := s.Messages(ctx, ada)
	if len(msgs) != 1 || msgs[0].ID != kept.ID {
		t.Fatalf("after the sweep the mailbox lists %d messages, want only the one stored whole", len(msgs))
	}
	if _, err := os.Stat(filepath.Join(dir, orphan)); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the orphan file survived the sweep")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatal("the sweep removed a file that is not voicemail's")
	}
	for _, m := range msgs {
		if pcm, err := s.Audio(m.File); err != nil || len(pcm) != 2*sampleRate {
			t.Fatalf("listed message %d: %d samples, %v", m.ID, len(pcm), err)
		}
	}
}

func TestFullMailboxAndShortMessagesTakeNothing(t *testing.T) {
	ctx := context.Background()
	db, ada, _ := testDB(t)
	s, _ := New(ctx, db, t.TempDir(), nil)
	s.Limit = 1
	var changes []string
	s.OnChange = func(box *store.Extension) { changes = append(changes, box.Number) }
	if _, err := s.Deposit(ctx, ada, Caller{Number: "1002"}, tone(440, 0.8)); !errors.Is(err, ErrTooShort) {
		t.Fatalf("a 0.8 s message: %v, want too short", err)
	}
	if _, err := s.Deposit(ctx, ada, Caller{Number: "1002"}, tone(440, 1.2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deposit(ctx, ada, Caller{Number: "1002"}, tone(440, 1.2)); !errors.Is(err, store.ErrMailboxFull) {
		t.Fatalf("into a full mailbox: %v", err)
	}
	if entries, _ := os.ReadDir(s.Dir); len(entries) != 1 {
		t.Fatalf("%d files in the data directory, want the one message", len(entries))
	}
	if n, saved, _ := s.Counts(ctx, ada); n != 1 || saved != 0 || len(changes) != 1 || changes[0] != "1001" {
		t.Fatalf("counts %d/%d, changes %v", n, saved, changes)
	}
}

func TestPINGuessingLocksTheMailboxAndIsAuditedWithoutThePIN(t *testing.T) {
	ctx := context.Background()
	db, ada, desk := testDB(t)
	s, _ := New(ctx, db, t.TempDir(), nil)
	for i := range MailboxAttempts {
		if err := s.Authenticate(ctx, ada, "1001", "9173", desk, "127.0.0.1:5062"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("wrong PIN %d: %v", i, err)
		}
	}
	if err := s.Authenticate(ctx, ada, "1001", "4826", desk, "127.0.0.1:5062"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("the right PIN during the lockout: %v, want refused like a wrong one", err)
	}
	if err := s.Authenticate(ctx, nil, "1999", "4826", desk, "127.0.0.1:5062"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an unknown mailbox: %v", err)
	}
	rows, err := db.HotdeskAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var locked, wrong int
	for _, r := range rows {
		if strings.Contains(r.Detail+r.IDTried+r.Source, "9173") || strings.Contains(r.Detail+r.IDTried, "4826") {
			t.Fatalf("an audit row holds a PIN: %+v", r)
		}
		switch {
		case r.Action == "voicemail-lockout":
			locked++
		case r.Outcome == "wrong-pin":
			wrong++
		}
	}
	if locked != 1 || wrong != MailboxAttempts {
		t.Fatalf("audit: %d lockouts, %d wrong PINs; want 1 and %d", locked, wrong, MailboxAttempts)
	}
	// Another mailbox from the same phone still opens.
	db.SetVoicemailPIN(ctx, desk.ID, "5071", "test")
	desk, _ = db.ExtensionByID(ctx, desk.ID)
	if err := s.Authenticate(ctx, desk, "1003", "5071", desk, "127.0.0.1:5062"); err != nil {
		t.Fatalf("the phone's own mailbox after another was locked: %v", err)
	}
}
