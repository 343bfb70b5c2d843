package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"deskpbx/store"
)

func (c *cli) extImport(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	file, label := fs.Arg(0), fs.Arg(0)
	in := c.stdin
	if file == "-" {
		label = "stdin"
	} else {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	// The whole file is read and checked before the database is touched,
	// so a malformed line costs nothing and leaves nothing behind.
	rows, lines, err := store.ParseExtensionsCSV(in)
	var ce *store.CSVError
	if errors.As(err, &ce) && ce.Line == 0 {
		return fmt.Errorf("%s is empty: want a header line %s; nothing was imported", label, store.ExtensionsCSVHeader)
	}
	if err != nil {
		return fmt.Errorf("%s %w; nothing was imported", label, err)
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.ImportExtensions(context.Background(), rows); err != nil {
		var re *store.RowError
		if errors.As(err, &re) && re.Row >= 0 && re.Row < len(lines) {
			return fmt.Errorf("%s line %d: %v; nothing was imported", label, lines[re.Row], re.Err)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "imported %d extensions\n", len(rows))
	return nil
}
