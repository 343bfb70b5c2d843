package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"deskpbx/store"
)

func (c *cli) extAdd(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	password := fs.String("password", "", "SIP `PASSWORD` the phone registers with (required, 6-128 characters)")
	pin := fs.String("pin", "", "voicemail `PIN` (4-15 digits)")
	name := fs.String("name", "", "display `NAME` shown to the people it calls")
	if err := c.parse(fs, cmd, args, 2, 2, "password"); err != nil {
		return err
	}
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	// Otherwise a malformed domain reads as "no tenant", with a hint to
	// create a tenant that tenant add would refuse.
	if err := store.ValidDomain(domain); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		e, err := d.CreateExtension(cliContext(), store.NewExtension{
			Domain: domain, Number: fs.Arg(1), Password: *password, PIN: *pin, Name: *name,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "added extension %s\n", e.AOR())
		return nil
	})
}

func (c *cli) extList(cmd *command, args []string) error {
	return c.listOf(cmd, args, func(ctx context.Context, d *store.DB, tenantID int64) error {
		exts, err := d.Extensions(ctx, tenantID)
		if err != nil {
			return err
		}
		w := c.table("EXTENSION\tNAME\tVOICEMAIL PIN\tCREATED")
		for _, e := range exts {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.AOR(), e.DisplayName, yesNo(e.PINHash != ""), e.CreatedAt.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	})
}

func (c *cli) extImport(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
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
	return withDB(*db, false, func(d *store.DB) error {
		for i := range rows {
			rows[i].Line = lines[i]
		}
		if err := d.ImportExtensions(cliContext(), rows); err != nil {
			var re *store.RowError
			if errors.As(err, &re) && re.Row >= 0 && re.Row < len(lines) {
				return fmt.Errorf("%s line %d: %v; nothing was imported", label, lines[re.Row], re.Err)
			}
			return err
		}
		fmt.Fprintf(c.stdout, "imported %d extensions\n", len(rows))
		return nil
	})
}
