package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"deskpbx/store"
)

// writeExtensions adds extensions 10000, 10001, ... one transaction each
// until stop is closed or max are written, counting them in written.
func writeExtensions(t *testing.T, db *store.DB, max int, written *atomic.Int64, stop <-chan struct{}) {
	for i := 0; i < max; i++ {
		select {
		case <-stop:
			return
		default:
		}
		_, err := db.CreateExtension(context.Background(), store.NewExtension{
			Domain: "acme.example", Number: strconv.Itoa(10000 + i), Password: "long-secret-x",
		})
		if err != nil {
			t.Errorf("writer: %v", err)
			return
		}
		written.Add(1)
	}
}

// waitFor spins (yielding to the writer) until cond or the writer ends.
func waitFor(cond func() bool, writerDone <-chan struct{}) bool {
	for !cond() {
		select {
		case <-writerDone:
			return cond()
		default:
		}
		time.Sleep(time.Millisecond) // polling, not a deadline
	}
	return true
}

// An admin's nightly backup runs while phones register and people log
// in: the archive holds the database as of one commit, and a restore into
// a fresh directory gives a server that starts and has those rows.
func TestBackupWhileWritingThenRestoreAndStart(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "deskpbx.db")
	db, err := store.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.CreateTenant(context.Background(), "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	greeting := []byte("RIFF....WAVE not really, but bytes that must come back")
	if err := os.MkdirAll(filepath.Join(dir, "voicemail", "1001"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "voicemail", "1001", "msg0001.wav"), greeting, 0o640); err != nil {
		t.Fatal(err)
	}

	const max = 100000
	var written atomic.Int64
	stop, writerDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(writerDone)
		writeExtensions(t, db, max, &written, stop)
	}()
	var once sync.Once
	stopWriter := func() { once.Do(func() { close(stop); <-writerDone }) }
	defer stopWriter()

	// The writer is running before the backup starts and still running
	// after it ends, so it ran during it.
	if !waitFor(func() bool { return written.Load() >= 20 }, writerDone) {
		t.Fatal("the writer stopped before writing 20 extensions")
	}
	archive := filepath.Join(t.TempDir(), "nightly.tar.gz")
	r := deskpbx(t, "backup", "-db", dbPath, archive).mustSucceed(t, "backup")
	if want := "the database and 1 data files"; !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(r.stdout) {
		t.Errorf("backup said %q, want it to mention %q", r.stdout, want)
	}
	afterBackup := written.Load()
	if !waitFor(func() bool { return written.Load() >= afterBackup+20 }, writerDone) {
		t.Fatalf("the writer ended (at %d of %d rows) before the backup was over: raise max", written.Load(), max)
	}
	stopWriter()
	total := written.Load()

	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive: %v, mode %v; want 0600 (it holds password hashes)", err, fi.Mode().Perm())
	}
	entries := archiveEntries(t, archive)
	if entries[0] != archiveDB || entries[len(entries)-1] != "voicemail/1001/msg0001.wav" {
		t.Errorf("archive holds %v", entries)
	}

	freshDB := filepath.Join(t.TempDir(), "new-box", "deskpbx.db")
	deskpbx(t, "restore", "-db", freshDB, archive).mustSucceed(t, "restore into a fresh directory")
	// The database holds digest hashes: restored, it is its owner's alone.
	if fi, err := os.Stat(freshDB); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Fatalf("restored database has mode %v, want 0600", fi.Mode().Perm())
	}

	restored := openStore(t, freshDB)
	exts, err := restored.Extensions(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	// One commit's view: extensions 10000.. with no gap, at least those
	// written before the backup began, at most all of them.
	if n := int64(len(exts)); n < 20 || n > total {
		t.Fatalf("restored %d extensions; %d were written in all, 20 before the backup", n, total)
	}
	for i, e := range exts {
		if want := fmt.Sprint(10000 + i); e.Number != want {
			t.Fatalf("restored extension %d is %s, want %s: not one consistent snapshot", i, e.Number, want)
		}
	}
	t.Logf("backup taken with %d rows written before it, %d after it; restored %d", afterBackup, total, len(exts))
	got, err := os.ReadFile(filepath.Join(filepath.Dir(freshDB), "voicemail", "1001", "msg0001.wav"))
	if err != nil || string(got) != string(greeting) {
		t.Errorf("voicemail after restore: %q, %v", got, err)
	}
	restored.Close()

	log, stopServe := startServe(t, freshDB)
	defer stopServe()
	sip := regexp.MustCompile(`sip=(\S+)`).FindStringSubmatch(log)
	if sip == nil {
		t.Fatalf("serve from the restored database did not start:\n%s", log)
	}
	deskpbx(t, "healthcheck", "-sip-addr", sip[1]).mustSucceed(t, "healthcheck of the restored server")
}

func archiveEntries(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		if hdr.Typeflag == tar.TypeReg {
			names = append(names, hdr.Name)
		}
	}
	return names
}

// A restore never lands on a running server, and replaces an existing
// installation only with -force, keeping what it replaced.
func TestRestoreRefusesARunningOrExistingInstallation(t *testing.T) {
	dbPath := testDB(t)
	deskpbx(t, "tenant", "add", "-db", dbPath, "old.example").mustSucceed(t, "tenant add")
	archive := filepath.Join(t.TempDir(), "b.tar.gz")
	deskpbx(t, "backup", "-db", dbPath, archive).mustSucceed(t, "backup")
	deskpbx(t, "tenant", "add", "-db", dbPath, "after-backup.example").mustSucceed(t, "tenant add")

	deskpbx(t, "restore", "-db", dbPath, archive).mustFail(t, "restore over an existing database", 2, "-force")

	_, stop := startServe(t, dbPath)
	deskpbx(t, "restore", "-force", "-db", dbPath, archive).mustFail(t, "restore -force under a running server", 1, "in use")
	stop()

	r := deskpbx(t, "restore", "-force", "-db", dbPath, archive).mustSucceed(t, "restore -force")
	kept := regexp.MustCompile(`kept the previous (\S+)`).FindStringSubmatch(r.stdout)
	if kept == nil {
		t.Fatalf("restore -force did not say where the old database went: %q", r.stdout)
	}
	if domains, _ := tenantDomains(t, openStore(t, dbPath)); len(domains) != 1 || domains[0] != "old.example" {
		t.Errorf("after restore the tenants are %v, want the backup's [old.example]", domains)
	}
	if domains, _ := tenantDomains(t, openStore(t, kept[1])); len(domains) != 2 {
		t.Errorf("the kept database has tenants %v, want both", domains)
	}

	notBackup := filepath.Join(t.TempDir(), "x.tar.gz")
	if err := os.WriteFile(notBackup, []byte("not gzip"), 0o600); err != nil {
		t.Fatal(err)
	}
	deskpbx(t, "restore", "-db", testDB(t), notBackup).mustFail(t, "restore of a file that is no backup", 1, "x.tar.gz")
}

// An archive that is not deskpbx's own (a name climbing out of the data
// directory, a link) is refused before anything lands beside the database.
func TestRestoreRefusesForeignArchiveEntries(t *testing.T) {
	for _, entry := range []tar.Header{
		{Typeflag: tar.TypeReg, Name: "../outside.txt", Size: 1},
		{Typeflag: tar.TypeReg, Name: "voicemail/../../outside.txt", Size: 1},
		{Typeflag: tar.TypeReg, Name: "/etc/cron.d/x", Size: 1},
		{Typeflag: tar.TypeSymlink, Name: "voicemail/link", Linkname: "/etc/shadow"},
	} {
		archive := filepath.Join(t.TempDir(), "evil.tar.gz")
		f, err := os.Create(archive)
		if err != nil {
			t.Fatal(err)
		}
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		hdr := entry
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte("x"))
		}
		tw.Close()
		gz.Close()
		f.Close()

		root := t.TempDir()
		dbPath := filepath.Join(root, "data", "deskpbx.db")
		deskpbx(t, "restore", "-db", dbPath, archive).mustFail(t, "restore of "+entry.Name, 1, "entry")
		var left []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				left = append(left, p)
			}
			return nil
		})
		if len(left) > 0 {
			t.Errorf("restore of %s left %v", entry.Name, left)
		}
	}
}
