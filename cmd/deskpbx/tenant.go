package main

import (
	"context"
	"flag"
	"fmt"
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
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	// Checked before opening so that a typo does not leave a new,
	// empty database file behind.
	if err := store.ValidDomain(domain); err != nil {
		return err
	}
	if *pin != "" {
		if err := store.ValidCompanyPIN(*pin); err != nil {
			return err
		}
	}
	return withDB(*db, true, func(d *store.DB) error {
		t, err := d.CreateTenant(cliContext(), domain, *pin, *makeDefault)
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
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
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
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	if err := store.ValidDomain(domain); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		t, err := hotdesk.New(d, quietLog).SetTenantSettings(context.Background(), domain, s, cliActor())
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%s: %s\n", t.Domain, hotdeskSummary(t))
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
