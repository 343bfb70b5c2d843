package main

// The directory's commands: tenants, their extensions and the admins of
// the web page.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/store"
)

func (c *cli) tenantAdd(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	pin := fs.String("pin", "", "hot-desk company `PIN` of the tenant (4-15 digits)")
	makeDefault := fs.Bool("default", false, "make this the default tenant (it gets requests addressed to an IP)")
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	domain, err := domainArg(fs, 0)
	if err != nil {
		return err
	}
	if *pin != "" {
		if err := store.ValidCompanyPIN(*pin); err != nil {
			return err
		}
	}
	return withDB(*db, true, func(d *store.DB) error {
		t, err := hotdesk.New(d, quietLog).CreateTenant(context.Background(), domain, *pin, *makeDefault, cliActor())
		if err != nil {
			return err
		}
		note := ""
		if t.Default {
			note = " (the default tenant)"
		}
		fmt.Fprintf(c.stdout, "added tenant %s%s\n", t.Domain, note)
		return nil
	})
}

func (c *cli) tenantList(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	if err := c.parse(fs, cmd, args, 0, 0); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		tenants, err := d.Tenants(context.Background())
		if err != nil {
			return err
		}
		w := c.table("DOMAIN\tDEFAULT\tCOMPANY PIN\tCREATED")
		for _, t := range tenants {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Domain, yesNo(t.Default), yesNo(t.HasCompanyPIN), t.CreatedAt.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	})
}

func (c *cli) tenantDefault(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
		if err := d.SetDefaultTenant(cliContext(), domain); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s is now the default tenant\n", domain)
		return nil
	})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func (c *cli) tenantSet(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	pin := fs.String("pin", "", "hot-desk company `PIN` (4-15 digits): when set, everyone of the tenant logs in with it instead of their own password")
	noPIN := fs.Bool("no-pin", false, "remove the company PIN")
	login := fs.String("hotdesk-login", "", "`on|off`: whether *072 works at the tenant's phones")
	logout := fs.String("hotdesk-logout", "", "`on|off`: whether *073 works at the tenant's phones")
	at := fs.String("autologout-at", "", "`HH:MM|off`: log out everyone seated at the tenant's phones daily at this server-local time")
	after := fs.String("autologout-after", "", "`DURATION|off`: log out anyone seated at the tenant's phones for this long (e.g. 10h)")
	mwiFlag := fs.String("mwi-unsolicited", "", "`on|off`: whether the tenant's phones that do not subscribe to message-waiting get unsolicited NOTIFYs (on by default)")
	outside := addOutsideFlags(fs)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	if only, err := c.applyOutside(fs, outside, *db); only || err != nil {
		return err
	}
	usage := fmt.Sprintf("(usage: deskpbx %s %s)", cmd.name, cmd.args)
	var s store.HotdeskSettings
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name != "db" })
	if !given {
		return usagef("%s: nothing to change: give at least one setting %s", cmd.name, usage)
	}
	switch {
	case flagSet(fs, "pin") && *noPIN:
		return usagef("%s: give -pin or -no-pin, not both", cmd.name)
	case flagSet(fs, "pin") && *pin == "":
		return usagef("%s: -pin is empty; to remove the company PIN use -no-pin", cmd.name)
	case flagSet(fs, "pin"):
		if err := store.ValidCompanyPIN(*pin); err != nil {
			return err
		}
		s.CompanyPIN = pin
	case *noPIN:
		none := ""
		s.CompanyPIN = &none
	}
	var err error
	if s.Login, err = onOffFlag(fs, "hotdesk-login", *login); err != nil {
		return err
	}
	if s.Logout, err = onOffFlag(fs, "hotdesk-logout", *logout); err != nil {
		return err
	}
	if flagSet(fs, "autologout-at") {
		v := strings.TrimSpace(*at)
		if v == "off" {
			v = ""
		} else if _, _, err := store.ParseAutologoutAt(v); err != nil {
			return usagef("%s: -autologout-at %q: give HH:MM (00:00 to 23:59) or off", cmd.name, *at)
		}
		s.AutologoutAt = &v
	}
	if flagSet(fs, "autologout-after") {
		var d time.Duration
		if v := strings.TrimSpace(*after); v != "off" {
			d, err = time.ParseDuration(v)
			if err != nil || d < time.Minute || d%time.Second != 0 {
				return usagef("%s: -autologout-after %q: give a duration of at least 1m, such as 90m or 10h, or off", cmd.name, *after)
			}
		}
		s.AutologoutAfter = &d
	}
	mwi, err := onOffFlag(fs, "mwi-unsolicited", *mwiFlag)
	if err != nil {
		return err
	}
	domain, err := domainArg(fs, 0)
	if err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		u := store.TenantUpdate{HotdeskSettings: s, MWIUnsolicited: mwi}
		t, err := hotdesk.New(d, quietLog).UpdateTenant(context.Background(), domain, u, cliActor())
		if err != nil {
			return err
		}
		if s != (store.HotdeskSettings{}) {
			fmt.Fprintf(c.stdout, "%s: %s\n", t.Domain, hotdeskSummary(t))
		}
		if mwi != nil {
			fmt.Fprintf(c.stdout, "%s: unsolicited message-waiting NOTIFYs %s\n", t.Domain, onOff(t.MWIUnsolicited))
		}
		return nil
	})
}

func onOffFlag(fs *flag.FlagSet, name, v string) (*bool, error) {
	if !flagSet(fs, name) {
		return nil, nil
	}
	var b bool
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on":
		b = true
	case "off":
	default:
		return nil, usagef("tenant set: -%s %q: give on or off", name, v)
	}
	return &b, nil
}

// hotdeskSummary is a tenant's hot-desk settings in one line.
func hotdeskSummary(t *store.Tenant) string {
	parts := []string{"hot-desk login " + onOff(t.HotdeskLogin), "logout " + onOff(t.HotdeskLogout)}
	if t.AutologoutAt != "" {
		parts = append(parts, "auto-logout daily at "+t.AutologoutAt)
	} else {
		parts = append(parts, "no daily auto-logout")
	}
	if t.AutologoutAfter > 0 {
		parts = append(parts, "auto-logout after "+shortDuration(t.AutologoutAfter))
	}
	if t.HasCompanyPIN {
		parts = append(parts, "company PIN set")
	} else {
		parts = append(parts, "no company PIN")
	}
	return strings.Join(parts, ", ")
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// shortDuration prints 10h rather than time's 10h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func (c *cli) extAdd(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	password := fs.String("password", "", "SIP `PASSWORD` the phone registers with (required, 6-128 characters)")
	pin := fs.String("pin", "", "voicemail `PIN` (4-15 digits)")
	name := fs.String("name", "", "display `NAME` shown to the people it calls")
	if err := c.parse(fs, cmd, args, 2, 2, "password"); err != nil {
		return err
	}
	domain, err := domainArg(fs, 0)
	if err != nil {
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

// createAdmin adds an admin account of the web page. The password comes
// from stdin, so it never shows in the process list or shell history;
// with nothing on stdin (or a terminal) one is generated and printed.
func (c *cli) createAdmin(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	tenant := fs.String("tenant", "", "make a tenant admin of `DOMAIN` (default: a system admin, all tenants)")
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	username := strings.TrimSpace(fs.Arg(0))
	if err := store.ValidAdminUsername(username); err != nil {
		return err
	}
	password, err := readPassword(c.stdin)
	if err != nil {
		return err
	}
	generated := password == ""
	if generated {
		password = store.GeneratePassword()
	} else if err := store.ValidAdminPassword(password, username); err != nil {
		return err
	}
	d, err := openDB(*db, *tenant == "")
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := cliContext()
	var tenantID int64
	if *tenant != "" {
		t, err := d.TenantByDomain(ctx, strings.TrimSpace(*tenant))
		if err != nil {
			return err
		}
		tenantID = t.ID
	}
	a, err := d.CreateAdmin(ctx, username, password, tenantID)
	if err != nil {
		return err
	}
	if a.System() {
		fmt.Fprintf(c.stdout, "created system admin %s\n", a.Username)
	} else {
		fmt.Fprintf(c.stdout, "created admin %s of %s\n", a.Username, a.Domain)
	}
	if generated {
		fmt.Fprintf(c.stdout, "password: %s\n(shown only this once; change it on the Account page)\n", password)
	}
	return nil
}

// domainArg is the tenant domain given as argument i, checked before the
// database is opened: a typo then leaves no new, empty database file
// behind, and does not read as "no tenant".
func domainArg(fs *flag.FlagSet, i int) (string, error) {
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(i)))
	return domain, store.ValidDomain(domain)
}
