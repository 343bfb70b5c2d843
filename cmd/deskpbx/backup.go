package main

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"deskpbx/store"
)

// A backup archive is a tar.gz holding the database as archiveDB and each
// data directory found beside the database (dataDirs) under its own name.
const archiveDB = "deskpbx.db"

// dataDirs are the directories beside the database that hold data the
// database refers to (voicemail audio, once it exists): a backup takes
// each one that is there, a restore puts back each one the archive has.
var dataDirs = []string{"voicemail"}

func (c *cli) backup(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	dbPath := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	n, err := writeBackup(context.Background(), *dbPath, fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "wrote %s: the database and %d data files\n", fs.Arg(0), n)
	return nil
}

// writeBackup writes the archive to out (through a temporary file, so a
// failed run never leaves a truncated archive under the final name) and
// returns how many data files it took besides the database.
func writeBackup(ctx context.Context, dbPath, out string) (int, error) {
	work, err := os.MkdirTemp(filepath.Dir(out), ".deskpbx-backup-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	snapshot := filepath.Join(work, archiveDB)
	if err := store.Backup(ctx, dbPath, snapshot); err != nil {
		return 0, err
	}

	tmp := filepath.Join(work, "archive.tar.gz")
	// The database holds password hashes: the archive is its owner's alone.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := addFile(tw, snapshot, archiveDB); err != nil {
		return 0, err
	}
	files := 0
	for _, dir := range dataDirs {
		n, err := addDir(tw, filepath.Join(filepath.Dir(dbPath), dir), dir)
		if err != nil {
			return 0, err
		}
		files += n
	}
	if err := tw.Close(); err != nil {
		return 0, err
	}
	if err := gz.Close(); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return files, os.Rename(tmp, out)
}

// addDir adds the tree at dir under name, if dir exists.
func addDir(tw *tar.Writer, dir, name string) (int, error) {
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return 0, nil
	}
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		entry := filepath.ToSlash(filepath.Join(name, rel))
		switch {
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: entry + "/", Mode: 0o700})
		case d.Type().IsRegular():
			files++
			return addFile(tw, path, entry)
		}
		return nil // sockets, links: not data a restore should recreate
	})
	return files, err
}

func addFile(tw *tar.Writer, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime()}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	// Exactly Size bytes: a file still growing would corrupt the archive.
	_, err = io.CopyN(tw, f, fi.Size())
	return err
}
