package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDatabaseAndItsWALAreReadableByTheOwnerOnly(t *testing.T) {
	// The most permissive umask: the modes below come from deskpbx, not
	// from a careful shell.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "deskpbx.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(context.Background(), "acme.example", "", true); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	if exp := db.ExposedFiles(); len(exp) != 0 {
		t.Errorf("exposed: %v", exp)
	}

	vm := filepath.Join(t.TempDir(), "voicemail", "acme")
	if err := MkdirPrivate(vm); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(vm); st.Mode().Perm() != 0o700 {
		t.Errorf("voicemail dir: %v, want 0700", st.Mode().Perm())
	}
}

func TestAWorldReadableDatabaseIsReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	// A database made by an earlier version, 0644.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o644)
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := db.ExposedFiles()
	if len(exp) == 0 || !strings.Contains(exp[0], "old.db") || !strings.Contains(exp[0], "-rw-r--r--") {
		t.Fatalf("exposed: %v", exp)
	}
}
