package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The database holds HA1 hashes, which authenticate a phone without any
// cracking, and admin password hashes: nobody but deskpbx's own user may
// read it. SQLite gives the -wal and -shm files the mode of the database
// file, so creating the database 0600 covers them too.
const (
	privateFile fs.FileMode = 0o600
	privateDir  fs.FileMode = 0o700
)

// createPrivate creates path 0600 when it does not exist yet; an empty
// file is a valid empty SQLite database. An existing file is left as it
// is (ExposedFiles reports it).
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, privateFile)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// MkdirPrivate creates a directory for deskpbx's own data (voicemail,
// say) readable by its owner only.
func MkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, privateDir); err != nil {
		return err
	}
	return os.Chmod(dir, privateDir)
}

// ExposedFiles lists the database's files (itself, -wal, -shm) and the
// extra paths given (a voicemail directory) that users other than the
// owner can read or write, each with its mode, so the server can warn at
// start. Files that do not exist are skipped.
func (db *DB) ExposedFiles(extra ...string) []string {
	paths := append([]string{db.path, db.path + "-wal", db.path + "-shm"}, extra...)
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if st.Mode().Perm()&0o077 != 0 {
			abs, _ := filepath.Abs(p)
			out = append(out, fmt.Sprintf("%s (%v)", abs, st.Mode().Perm()))
		}
	}
	return out
}
