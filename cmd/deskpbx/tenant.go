package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"deskpbx/store"
)

func (c *cli) tenantAdd(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
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
		if err := store.ValidPIN(*pin); err != nil {
			return fmt.Errorf("company %w", err)
		}
	}
	d, err := openDB(*db, true)
	if err != nil {
		return err
	}
	defer d.Close()
	t, err := d.CreateTenant(context.Background(), domain, *pin, *makeDefault)
	if err != nil {
		return err
	}
	note := ""
	if t.Default {
		note = " (the default tenant)"
	}
	fmt.Fprintf(c.stdout, "added tenant %s%s\n", t.Domain, note)
	return nil
}

func (c *cli) tenantList(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 0, 0); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	tenants, err := d.Tenants(context.Background())
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DOMAIN\tDEFAULT\tCOMPANY PIN\tCREATED")
	for _, t := range tenants {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", t.Domain, yesNo(t.Default), yesNo(t.HasCompanyPIN), t.CreatedAt.Format("2006-01-02 15:04"))
	}
	return w.Flush()
}

func (c *cli) tenantDefault(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	if err := d.SetDefaultTenant(context.Background(), domain); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s is now the default tenant\n", domain)
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
