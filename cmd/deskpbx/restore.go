package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"deskpbx/store"
)

func (c *cli) restore(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := dbFlag(fs)
	force := fs.Bool("force", false, "replace an existing database (kept beside it as .before-restore-TIME); the server must be stopped")
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	kept, err := restoreBackup(context.Background(), fs.Arg(0), *dbPath, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "restored %s from %s\n", *dbPath, fs.Arg(0))
	for _, k := range kept {
		fmt.Fprintf(c.stdout, "kept the previous %s\n", k)
	}
	return nil
}

// restoreBackup unpacks the archive beside dbPath, checks the database in
// it, and only then moves it (and its data directories) into place. What
// it replaces is renamed, not deleted; the renamed paths are returned.
func restoreBackup(ctx context.Context, archive, dbPath string, force bool) ([]string, error) {
	dir := filepath.Dir(dbPath)
	if err := refuseReplace(ctx, dbPath, dir, force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Staged on the same file system, so the final moves are renames.
	stage, err := os.MkdirTemp(dir, ".deskpbx-restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	if err := extract(archive, stage); err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	staged := filepath.Join(stage, archiveDB)
	if _, err := os.Stat(staged); err != nil {
		return nil, fmt.Errorf("%s: no %s in the archive: not a deskpbx backup", archive, archiveDB)
	}
	if err := store.Verify(ctx, staged); err != nil {
		return nil, err
	}

	suffix := ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
	var kept []string
	moveIn := func(from, to string) error {
		if _, err := os.Lstat(to); err == nil {
			if err := os.Rename(to, to+suffix); err != nil {
				return err
			}
			kept = append(kept, to+suffix)
		}
		return os.Rename(from, to)
	}
	// CheckNotInUse folded any WAL into the old file; leftovers would be
	// replayed into the restored one.
	for _, ext := range []string{"-wal", "-shm"} {
		if err := os.Remove(dbPath + ext); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if err := moveIn(staged, dbPath); err != nil {
		return kept, err
	}
	for _, d := range dataDirs {
		if _, err := os.Stat(filepath.Join(stage, d)); err == nil {
			if err := moveIn(filepath.Join(stage, d), filepath.Join(dir, d)); err != nil {
				return kept, err
			}
		}
	}
	return kept, nil
}

// refuseReplace: a restore goes into a stopped installation, and replaces
// existing data only when told to.
func refuseReplace(ctx context.Context, dbPath, dir string, force bool) error {
	existing := []string{}
	for _, p := range append([]string{dbPath}, dataDirPaths(dir)...) {
		if _, err := os.Lstat(p); err == nil {
			existing = append(existing, p)
		}
	}
	if len(existing) == 0 {
		return nil
	}
	if !force {
		return usagef("restore: %s exists: replace it with -force (it is kept, renamed)", strings.Join(existing, " and "))
	}
	if _, err := os.Stat(dbPath); err == nil {
		return store.CheckNotInUse(ctx, dbPath)
	}
	return nil
}

func dataDirPaths(dir string) []string {
	var out []string
	for _, d := range dataDirs {
		out = append(out, filepath.Join(dir, d))
	}
	return out
}

// extract unpacks a backup archive into dir, taking only what a backup
// holds (the database and regular files and directories under the data
// directories) and no name that could land outside dir.
func extract(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(hdr.Name)
		if !allowedEntry(name) {
			return fmt.Errorf("unexpected entry %q: not a deskpbx backup", hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeEntry(tr, target); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q: only files and directories belong in a backup", hdr.Name)
		}
	}
}

func allowedEntry(name string) bool {
	if name == archiveDB {
		return true
	}
	for _, d := range dataDirs {
		if name == d || strings.HasPrefix(name, d+"/") && !strings.Contains(name, "..") {
			return true
		}
	}
	return false
}

func writeEntry(r io.Reader, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
