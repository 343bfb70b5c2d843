package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/store"
	"deskpbx/webhook"
)

// quietLog keeps the service's log lines off stderr, where a command
// prints only its one-line error.
var quietLog = slog.New(slog.DiscardHandler)

// cliContext names whoever ran the command as the actor of the changes
// it makes, which store writes to the audit log with each change.
func cliContext() context.Context { return store.WithActor(context.Background(), cliActor()) }

// cliActor names whoever ran the command in the audit log.
func cliActor() string {
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

func (c *cli) hotdeskAdd(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	id := fs.String("id", "", "hot-desk `UNIQUEID` keyed at *072 (4-15 digits, unique across all tenants; required)")
	password := fs.String("password", "", "own hot-desk password `N` (4-15 digits); without it the voicemail PIN is asked for")
	description := fs.String("description", "", "free `TEXT` shown in lists")
	if err := c.parse(fs, cmd, args, 2, 2, "id"); err != nil {
		return err
	}
	// Everything that needs no database is checked before opening it.
	domain, err := domainArg(fs, 0)
	if err != nil {
		return err
	}
	number := strings.TrimSpace(fs.Arg(1))
	if err := store.ValidNumber(number); err != nil {
		return err
	}
	if err := store.ValidHotdeskID(*id); err != nil {
		return err
	}
	if flagSet(fs, "password") {
		if err := store.ValidHotdeskPIN(*password, number, *id); err != nil {
			return err
		}
	}
	return withDB(*db, false, func(d *store.DB) error {
		e, err := hotdesk.New(d, quietLog).CreateEntry(cliContext(), store.NewHotdeskEntry{
			Domain: domain, Number: number, HotdeskID: *id, PIN: *password, Description: *description,
		}, cliActor())
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "added hot-desk ID %s for %s\n", e.HotdeskID, e.Person.AOR())
		return nil
	})
}

func (c *cli) hotdeskList(cmd *command, args []string) error {
	return c.listOf(cmd, args, func(ctx context.Context, d *store.DB, tenantID int64) error {
		entries, err := d.HotdeskEntries(ctx, tenantID)
		if err != nil {
			return err
		}
		now := time.Now()
		w := c.table("ID\tEXTENSION\tSEATED AT\tSINCE\tDIAL STRING\tLOCKED\tDESCRIPTION")
		for _, e := range entries {
			seat, since, dial, locked := "-", "-", "-", "no"
			if e.Seat != "" {
				seat, since, dial = e.Seat, e.SeatedSince.Local().Format("2006-01-02 15:04"), e.Seat
			}
			if e.DialOverride != "" {
				dial = e.DialOverride + " (override)"
			}
			if e.Locked(now) {
				locked = "until " + e.LockedUntil.Local().Format("15:04")
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.HotdeskID, e.Person.AOR(), seat, since, dial, locked, e.Description)
		}
		return w.Flush()
	})
}

func (c *cli) hotdeskLogout(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	all := fs.Bool("all", false, "log out everyone (whose person or phone is of DOMAIN, if given)")
	if err := c.parse(fs, cmd, args, 0, 1); err != nil {
		return err
	}
	arg := fs.Arg(0)
	switch {
	case *all && arg != "" && store.ValidNumber(arg) == nil:
		return usagef("%s: give -all or a UNIQUEID, not both (usage: deskpbx %s %s)", cmd.name, cmd.name, cmd.args)
	case !*all && arg == "":
		return usagef("%s: give a UNIQUEID, or -all (usage: deskpbx %s %s)", cmd.name, cmd.name, cmd.args)
	case !*all:
		if err := store.ValidHotdeskID(arg); err != nil {
			return err
		}
	}
	return withDB(*db, false, func(d *store.DB) error {
		ctx := context.Background()
		s := hotdesk.New(d, quietLog)
		// Into the outbox: the running server delivers them.
		s.OnSession(func(e hotdesk.SessionEvent) { emitSession(ctx, webhook.New(d, quietLog), e, quietLog) })
		if *all {
			var tenantID int64
			if arg != "" {
				t, err := d.TenantByDomain(ctx, arg)
				if err != nil {
					return err
				}
				tenantID = t.ID
			}
			n, err := s.ForceLogoutAll(ctx, tenantID, cliActor())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "logged out %d hot-desk %s\n", n, plural(n, "session", "sessions"))
			return nil
		}
		sess, err := s.ForceLogout(ctx, arg, cliActor())
		if err != nil {
			return err
		}
		if sess == nil {
			fmt.Fprintf(c.stdout, "hot-desk ID %s was not logged in\n", arg)
			return nil
		}
		fmt.Fprintf(c.stdout, "logged out hot-desk ID %s (%s) from %s\n", arg, sess.Person, sess.Device)
		return nil
	})
}

func (c *cli) hotdeskUnlock(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	seat := fs.Bool("seat", false, "unlock the phone registered as NUMBER@DOMAIN, locked after too many wrong tries of *072 or *073")
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	arg := fs.Arg(0)
	var number, domain string
	if *seat {
		var ok bool
		number, domain, ok = strings.Cut(strings.ToLower(strings.TrimSpace(arg)), "@")
		if !ok || store.ValidNumber(number) != nil || store.ValidDomain(domain) != nil {
			return usagef("%s: -seat %q: give the phone's extension as NUMBER@DOMAIN", cmd.name, arg)
		}
	} else if err := store.ValidHotdeskID(arg); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		ctx := context.Background()
		s := hotdesk.New(d, quietLog)
		if *seat {
			e, err := d.LookupExtension(ctx, domain, number)
			if err != nil {
				return err
			}
			was, err := s.UnlockSeat(ctx, e, cliActor())
			if err != nil {
				return err
			}
			if !was {
				fmt.Fprintf(c.stdout, "phone %s was not locked\n", e.AOR())
				return nil
			}
			fmt.Fprintf(c.stdout, "unlocked phone %s\n", e.AOR())
			return nil
		}
		was, err := s.Unlock(ctx, arg, cliActor())
		if err != nil {
			return err
		}
		if !was {
			fmt.Fprintf(c.stdout, "hot-desk ID %s was not locked\n", arg)
			return nil
		}
		fmt.Fprintf(c.stdout, "unlocked hot-desk ID %s\n", arg)
		return nil
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
