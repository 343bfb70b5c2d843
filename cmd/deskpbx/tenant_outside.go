package main

import (
	"flag"
	"fmt"
	"slices"
	"strings"

	"deskpbx/store"
)

// outsideFlags are tenant set's flags for outside lines.
type outsideFlags struct {
	emergency, main, strip, national, email *string
}

var outsideFlagNames = []string{"emergency-numbers", "main-number", "outbound-prefix", "national-prefix", "notify-email"}

func addOutsideFlags(fs *flag.FlagSet) *outsideFlags {
	return &outsideFlags{
		emergency: fs.String("emergency-numbers", "", "`LIST` of emergency numbers, always allowed from every phone (default 911,112)"),
		main:      fs.String("main-number", "", "the tenant's main outside `NUMBER`: caller ID of extensions with neither their own nor a DID"),
		strip:     fs.String("outbound-prefix", "", "`DIGITS` dialled before an outside number and removed (e.g. 9); \"\" none"),
		national:  fs.String("national-prefix", "", "`LIST` of the own country's prefixes (e.g. +49,0049): numbers with + or 00 and none of these are international"),
		email:     fs.String("notify-email", "", "`ADDRESS` told of every emergency call"),
	}
}

// applyOutside changes the outside settings given on the command line;
// only says whether the command had nothing else to do.
func (c *cli) applyOutside(fs *flag.FlagSet, f *outsideFlags, dbPath string) (only bool, err error) {
	var s store.TenantOutsideSettings
	given, others := false, false
	fs.Visit(func(fl *flag.Flag) {
		switch {
		case fl.Name == "db":
		case slices.Contains(outsideFlagNames, fl.Name):
			given = true
		default:
			others = true
		}
	})
	if !given {
		return false, nil
	}
	if flagSet(fs, "emergency-numbers") {
		l, err := store.ParseNumberList(*f.emergency)
		if err != nil {
			return false, fmt.Errorf("emergency numbers: %w", err)
		}
		s.EmergencyNumbers = &l
	}
	if flagSet(fs, "national-prefix") {
		l := strings.Split(strings.ReplaceAll(*f.national, " ", ""), ",")
		s.NationalPrefixes = &l
	}
	if flagSet(fs, "main-number") {
		s.MainNumber = f.main
	}
	if flagSet(fs, "outbound-prefix") {
		s.StripPrefix = f.strip
	}
	if flagSet(fs, "notify-email") {
		s.NotifyEmail = f.email
	}
	d, err := openDB(dbPath, false)
	if err != nil {
		return false, err
	}
	defer d.Close()
	domain := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	o, err := d.SetTenantOutside(cliContext(), domain, s)
	if err != nil {
		return false, err
	}
	fmt.Fprintf(c.stdout, "%s: emergency numbers %s, main number %s, outbound prefix %s\n", domain,
		strings.Join(o.EmergencyNumbers, ","), orDefault(o.MainNumber, "none"), orDefault(o.StripPrefix, "none"))
	return !others, nil
}
