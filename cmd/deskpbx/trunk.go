package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"deskpbx/store"
)

func (c *cli) trunkAdd(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	host := fs.String("host", "", "the provider's `HOST[:PORT]` (required; port 5060 when omitted)")
	transport := fs.String("transport", "udp", "`udp|tcp`")
	username := fs.String("username", "", "digest `USER` name the provider gave")
	password := fs.String("password", "", "digest `PASSWORD` the provider gave; stored for answering its challenges, never shown")
	register := fs.Bool("register", false, "register to the provider (else it is recognised by its address)")
	fromDomain := fs.String("from-domain", "", "host part of From towards the provider, if it wants one (`DOMAIN`)")
	if err := c.parse(fs, cmd, args, 2, 2); err != nil {
		return err
	}
	if *host == "" {
		return usagef("%s: -host is required (usage: deskpbx %s %s)", cmd.name, cmd.name, cmd.args)
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	k, err := d.CreateTrunk(cliContext(), store.NewTrunk{Domain: fs.Arg(0), Name: fs.Arg(1), Host: *host,
		Transport: *transport, Username: *username, Password: *password, Register: *register, FromDomain: *fromDomain})
	if err != nil {
		return err
	}
	how := "recognised by its address"
	if k.Register {
		how = "registering as " + k.Username
	}
	fmt.Fprintf(c.stdout, "added trunk %s of %s to %s over %s, %s\n", k.Name, k.Domain, k.HostPort(), k.Transport, how)
	return nil
}

func (c *cli) trunkList(cmd *command, args []string) error {
	d, tenantID, err := c.openForList(cmd, args)
	if err != nil {
		return err
	}
	defer d.Close()
	trunks, err := d.Trunks(context.Background(), tenantID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TENANT\tTRUNK\tHOST\tTRANSPORT\tREGISTER\tUSER\tSTATE\tSINCE")
	for _, k := range trunks {
		state := k.State
		if k.StateReason != "" {
			state += " (" + k.StateReason + ")"
		}
		since := ""
		if !k.StateAt.IsZero() {
			since = k.StateAt.Format("2006-01-02 15:04:05")
		}
		// Never the password: not even whether one is set beyond the user.
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.Domain, k.Name, k.HostPort(), k.Transport,
			yesNo(k.Register), k.Username, state, since)
	}
	return w.Flush()
}

func (c *cli) didAdd(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 3, 3); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	did, err := d.CreateDID(cliContext(), fs.Arg(0), fs.Arg(1), fs.Arg(2))
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "calls to %s ring %s\n", did.Number, did.Extension.AOR())
	return nil
}

func (c *cli) didList(cmd *command, args []string) error {
	d, tenantID, err := c.openForList(cmd, args)
	if err != nil {
		return err
	}
	defer d.Close()
	dids, err := d.DIDs(context.Background(), tenantID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NUMBER\tRINGS")
	for _, did := range dids {
		fmt.Fprintf(w, "%s\t%s\n", did.Number, did.Extension.AOR())
	}
	return w.Flush()
}

func (c *cli) extSet(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	cid := fs.String("outside-cid", "", "outside caller `NUMBER` of this extension's calls, from any seat (\"\" = its DID, else the tenant's main number)")
	ecid := fs.String("emergency-cid", "", "emergency caller `NUMBER` of this phone: its location's callback number")
	perm := fs.String("outside", "", "what it may dial outside: `internal|national|international`")
	if err := c.parse(fs, cmd, args, 2, 2); err != nil {
		return err
	}
	var s store.ExtensionOutsideSettings
	if flagSet(fs, "outside-cid") {
		s.OutsideCID = cid
	}
	if flagSet(fs, "emergency-cid") {
		s.EmergencyCID = ecid
	}
	if flagSet(fs, "outside") {
		v := strings.ToLower(strings.TrimSpace(*perm))
		s.Permission = &v
	}
	if s == (store.ExtensionOutsideSettings{}) {
		return usagef("%s: nothing to change: give at least one setting (usage: deskpbx %s %s)", cmd.name, cmd.name, cmd.args)
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	o, err := d.SetExtensionOutside(cliContext(), strings.ToLower(fs.Arg(0)), fs.Arg(1), s)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s@%s: outside caller ID %s, emergency caller ID %s, may call %s\n", fs.Arg(1), strings.ToLower(fs.Arg(0)),
		orDefault(o.OutsideCID, "default"), orDefault(o.EmergencyCID, "default"), o.Permission)
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// openForList parses a list command's [-db PATH] [DOMAIN] and opens the
// database; tenantID is 0 when no DOMAIN was given.
func (c *cli) openForList(cmd *command, args []string) (*store.DB, int64, error) {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 0, 1); err != nil {
		return nil, 0, err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return nil, 0, err
	}
	tenantID, err := tenantArg(context.Background(), d, fs)
	if err != nil {
		d.Close()
		return nil, 0, err
	}
	return d, tenantID, nil
}
