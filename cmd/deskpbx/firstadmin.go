package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"deskpbx/store"
)

// firstAdminFile is where the generated first-admin password goes when
// nobody watches the terminal: beside the database, readable by deskpbx's
// own user only.
func firstAdminFile(dbPath string) string { return dbPath + ".admin-password" }

// announceFirstAdmin tells the office admin the generated password of the
// first account, without ever writing it to the log (journald keeps logs
// for months, and anyone in group adm reads them): on the terminal when
// stderr is one, else in a 0600 file beside the database, whose path the
// log names.
func announceFirstAdmin(stderr *os.File, dbPath, url, user, password string, log *slog.Logger) error {
	if isTerminal(stderr) {
		fmt.Fprintf(stderr, "\n  deskpbx first start: log in at %s as %s with password\n\n      %s\n\n  It is shown only this once, and must be changed at the first login.\n\n", url, user, password)
		log.Warn("first start: created the admin account; its password was shown on the terminal, once", "url", url, "user", user)
		return nil
	}
	path := firstAdminFile(dbPath)
	if err := writePrivateFile(path, fmt.Sprintf("url: %s\nuser: %s\npassword: %s\n", url, user, password)); err != nil {
		return fmt.Errorf("writing the first admin's password: %w", err)
	}
	abs, _ := filepath.Abs(path)
	log.Warn("first start: created the admin account; its password is in the file named here: log in, change it, then delete the file",
		"url", url, "user", user, "password_file", abs)
	return nil
}

// writePrivateFile writes s to path, mode 0600, never through a symlink
// someone planted there.
func writePrivateFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	// A file left from before keeps its mode through O_CREATE.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := io.WriteString(f, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal is a real terminal test (a tty ioctl), not a character
// device test: /dev/null is a character device, and a password printed
// there would be lost.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// warnExposedFiles says at start which of deskpbx's data files other
// users can read: the database holds HA1 hashes, which authenticate
// phones as they are.
func warnExposedFiles(db *store.DB, log *slog.Logger) {
	for _, f := range db.ExposedFiles() {
		log.Warn("other users can read or write this file, which holds credentials: chmod 600 it (and 700 its directory)", "file", f)
	}
}

// readPassword reads the first line of stdin; a terminal is not read, so
// an admin running the command by hand gets a generated password rather
// than a prompt that would echo what they type.
func readPassword(in io.Reader) (string, error) {
	if in == nil {
		return "", nil
	}
	if f, ok := in.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
