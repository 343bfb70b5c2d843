package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"deskpbx/store"
)

func (c *cli) extAdd(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	password := fs.String("password", "", "SIP `PASSWORD` the phone registers with (required, 6-128 characters)")
	pin := fs.String("pin", "", "voicemail `PIN` (4-15 digits)")
	name := fs.String("name", "", "display `NAME` shown to the people it calls")
	if err := c.parse(fs, cmd, args, 2, 2); err != nil {
		return err
	}
	if !flagSet(fs, "password") {
		return usagef("%s: -password is required (usage: deskpbx %s %s)", cmd.name, cmd.name, cmd.args)
	}
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	// Otherwise a malformed domain reads as "no tenant", with a hint to
	// create a tenant that tenant add would refuse.
	if err := store.ValidDomain(domain); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	e, err := d.CreateExtension(context.Background(), store.NewExtension{
		Domain: domain, Number: fs.Arg(1), Password: *password, PIN: *pin, Name: *name,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "added extension %s\n", e.AOR())
	return nil
}

func (c *cli) extList(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 0, 1); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	tenantID, err := tenantArg(ctx, d, fs)
	if err != nil {
		return err
	}
	exts, err := d.Extensions(ctx, tenantID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "EXTENSION\tNAME\tVOICEMAIL PIN\tCREATED")
	for _, e := range exts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", e.AOR(), e.DisplayName, yesNo(e.PINHash != ""), e.CreatedAt.Format("2006-01-02 15:04"))
	}
	return w.Flush()
}
