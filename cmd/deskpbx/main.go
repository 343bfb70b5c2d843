// Command deskpbx is a single-binary SIP PBX with hot desking. With no
// arguments it runs the server; its other commands provision tenants and
// extensions in the same database, for admins and scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"deskpbx/store"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// cli carries the standard streams so every command writes where it was
// told to rather than reaching for os.Stdout itself.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one entry of the help text and of the dispatch table.
type command struct {
	name    string // "tenant add"
	args    string // synopsis after the name
	summary string
	run     func(c *cli, cmd *command, args []string) error
}

// commands lists every command in the order help shows them; serve is
// dispatched separately because its flags belong to runServe.
var commands = []*command{
	{name: "serve", args: "[flags]", summary: "run the PBX (the default when no command is given; see deskpbx serve -h)"},
	{name: "tenant add", args: "[-db PATH] [-pin N] [-default] DOMAIN", summary: "add a tenant (a SIP domain); the first one becomes the default", run: (*cli).tenantAdd},
	{name: "tenant list", args: "[-db PATH]", summary: "list tenants", run: (*cli).tenantList},
	{name: "tenant default", args: "[-db PATH] DOMAIN", summary: "make an existing tenant the default (requests to an IP address go to it)", run: (*cli).tenantDefault},
	{name: "tenant set", args: "[-db PATH] [-pin N | -no-pin] [-hotdesk-login on|off] [-hotdesk-logout on|off] [-autologout-at HH:MM|off] [-autologout-after DURATION|off] [-mwi-unsolicited on|off] [-emergency-numbers 911,112] [-main-number N] [-outbound-prefix 9] [-national-prefix +1] [-notify-email ADDR] DOMAIN", summary: "change a tenant's settings: company PIN, *072/*073 on or off, auto-logout, message-waiting NOTIFYs to phones that do not subscribe, outside lines", run: (*cli).tenantSet},
	{name: "ext add", args: "[-db PATH] -password P [-pin N] [-name NAME] DOMAIN NUMBER", summary: "add an extension to a tenant", run: (*cli).extAdd},
	{name: "ext list", args: "[-db PATH] [DOMAIN]", summary: "list extensions, of one tenant or of all", run: (*cli).extList},
	{name: "ext set", args: "[-db PATH] [-outside-cid N] [-emergency-cid N] [-outside internal|national|international] DOMAIN NUMBER", summary: "change how an extension calls outside: its caller ID (follows the person to any seat), its phone's emergency caller ID, what it may dial", run: (*cli).extSet},
	{name: "ext import", args: "[-db PATH] FILE.csv", summary: "add extensions from CSV (" + store.ExtensionsCSVHeader + "), all or none; - reads stdin", run: (*cli).extImport},
	{name: "hotdesk add", args: "[-db PATH] -id UNIQUEID [-password N] [-description TEXT] DOMAIN NUMBER", summary: "let an extension hot-desk: log in at any phone with *072 and its ID, unique across all tenants", run: (*cli).hotdeskAdd},
	{name: "hotdesk list", args: "[-db PATH] [DOMAIN]", summary: "list hot-desk IDs: who sits where since when, where their calls ring, lockouts", run: (*cli).hotdeskList},
	{name: "hotdesk logout", args: "[-db PATH] (-all [DOMAIN] | UNIQUEID)", summary: "end the hot-desk session of one ID, or everyone's (of one tenant)", run: (*cli).hotdeskLogout},
	{name: "hotdesk unlock", args: "[-db PATH] (UNIQUEID | -seat NUMBER@DOMAIN)", summary: "lift the lockout of a hot-desk ID after too many wrong passwords, or of a phone after too many wrong tries", run: (*cli).hotdeskUnlock},
	{name: "trunk add", args: "[-db PATH] -host HOST[:PORT] [-transport udp|tcp] [-username U -password P] [-register] [-from-domain D] DOMAIN NAME", summary: "add a trunk to a SIP provider; a tenant's first trunk carries its outside calls", run: (*cli).trunkAdd},
	{name: "trunk list", args: "[-db PATH] [DOMAIN]", summary: "list trunks with their registration state (never their passwords)", run: (*cli).trunkList},
	{name: "did add", args: "[-db PATH] DOMAIN NUMBER EXTENSION", summary: "let calls from a provider to NUMBER ring an extension, wherever its person sits", run: (*cli).didAdd},
	{name: "did list", args: "[-db PATH] [DOMAIN]", summary: "list provider numbers and the extensions they ring", run: (*cli).didList},
	{name: "webhook add", args: "[-db PATH] DOMAIN URL", summary: "POST a tenant's events (hot-desk login and logout, missed call, voicemail, emergency call) to URL, signed; prints the secret once", run: (*cli).webhookAdd},
	{name: "webhook list", args: "[-db PATH] [DOMAIN]", summary: "list webhooks with their pending and failed deliveries", run: (*cli).webhookList},
	{name: "webhook remove", args: "[-db PATH] ID", summary: "remove a webhook and its undelivered events", run: (*cli).webhookRemove},
	{name: "voicemail list", args: "[-db PATH] DOMAIN NUMBER", summary: "list the messages in an extension's mailbox: folder, caller, time, duration", run: (*cli).voicemailList},
	{name: "create-admin", args: "[-db PATH] [-tenant DOMAIN] USER", summary: "add an admin of the web page; the password is read from stdin, or generated and printed", run: (*cli).createAdmin},
	{name: "backup", args: "[-db PATH] FILE.tar.gz", summary: "write a consistent copy of the database (and voicemail beside it) while the server runs", run: (*cli).backup},
	{name: "restore", args: "[-db PATH] [-force] FILE.tar.gz", summary: "put a backup back into a stopped installation; -force replaces (and keeps) existing data", run: (*cli).restore},
	{name: "healthcheck", args: "[-sip-addr HOST:PORT]", summary: "exit 0 if the running PBX answers a SIP OPTIONS within 2 s", run: (*cli).healthcheck},
	{name: "help", args: "[COMMAND]", summary: "show this help, or the flags of one command"},
}

// usageError is bad command-line input: exit status 2, as flag does.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelpShown means a command printed its help on request: exit 0.
var errHelpShown = errors.New("help shown")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.dispatch(args)
	if err == nil || errors.Is(err, errHelpShown) || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintln(stderr, "deskpbx: "+oneLine(err))
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// oneLine keeps every failure to a single line of stderr, which scripts
// and container health logs show whole.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (c *cli) dispatch(args []string) error {
	if len(args) == 0 {
		return runServe(nil)
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:])
	case "help", "-h", "-help", "--help":
		return c.help(args[1:])
	}
	if strings.HasPrefix(args[0], "-") {
		// Server flags without the word serve, as in "deskpbx -db /var/lib/deskpbx.db".
		return runServe(args)
	}
	group := args[0]
	sub := ""
	if len(args) > 1 {
		sub = args[1]
	}
	var matched bool
	for _, cmd := range commands {
		name, rest, hasSub := strings.Cut(cmd.name, " ")
		if name != group {
			continue
		}
		matched = true
		if !hasSub {
			return cmd.run(c, cmd, args[1:])
		}
		if rest == sub {
			return cmd.run(c, cmd, args[2:])
		}
	}
	if !matched {
		return usagef("unknown command %q (see deskpbx help)", group)
	}
	if sub == "" || strings.HasPrefix(sub, "-") {
		return usagef("%s needs a subcommand: %s", group, strings.Join(subcommands(group), ", "))
	}
	return usagef("unknown command %q (%s has: %s)", group+" "+sub, group, strings.Join(subcommands(group), ", "))
}

func subcommands(group string) []string {
	var out []string
	for _, cmd := range commands {
		if name, rest, ok := strings.Cut(cmd.name, " "); ok && name == group {
			out = append(out, rest)
		}
	}
	return out
}

func (c *cli) help(args []string) error {
	if len(args) > 0 {
		want := strings.Join(args, " ")
		if want == "serve" {
			return runServe([]string{"-h"})
		}
		for _, cmd := range commands {
			if cmd.name == want && cmd.run != nil {
				return cmd.run(c, cmd, []string{"-h"})
			}
		}
		return usagef("no help for %q: unknown command (see deskpbx help)", want)
	}
	w := c.stdout
	fmt.Fprint(w, "deskpbx is a SIP PBX with hot desking in one binary.\n\nUsage:\n\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  deskpbx %s %s\n      %s\n", cmd.name, cmd.args, cmd.summary)
	}
	fmt.Fprintf(w, "\nFlags go before the other arguments. -db defaults to $DESKPBX_DB, else %s.\n", defaultDBPath)
	fmt.Fprint(w, "Run deskpbx help COMMAND for the flags of one command.\n")
	return errHelpShown
}

// newFlagSet returns a FlagSet whose own printing is silenced: parse
// reports errors in one line and prints help to stdout only on request.
func newFlagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args and checks the positional argument count is within
// [min, max] (max < 0: unlimited) and that the required flags are given.
func (c *cli) parse(fs *flag.FlagSet, cmd *command, args []string, min, max int, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(c.stdout, "Usage: deskpbx %s %s\n\n%s.\n", cmd.name, cmd.args, upperFirst(cmd.summary))
			fs.SetOutput(c.stdout)
			if hasFlags(fs) {
				fmt.Fprintln(c.stdout)
				fs.PrintDefaults()
			}
			return errHelpShown
		}
		return usagef("%s: %v", cmd.name, err)
	}
	n := fs.NArg()
	if n >= min && (max < 0 || n <= max) {
		for _, name := range required {
			if !flagSet(fs, name) {
				return usagef("%s: -%s is required (usage: deskpbx %s %s)", cmd.name, name, cmd.name, cmd.args)
			}
		}
		return nil
	}
	for _, a := range fs.Args() {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return usagef("%s: flag %s after the arguments: flags go first (usage: deskpbx %s %s)", cmd.name, a, cmd.name, cmd.args)
		}
	}
	what := "too many arguments"
	if n < min {
		what = "missing arguments"
	}
	return usagef("%s: %s (usage: deskpbx %s %s)", cmd.name, what, cmd.name, cmd.args)
}

func hasFlags(fs *flag.FlagSet) bool {
	found := false
	fs.VisitAll(func(*flag.Flag) { found = true })
	return found
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// flagSet reports whether the user gave flag name, even if empty.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

const defaultDBPath = "./deskpbx.db"

// envOrDefault is how every flag gets its DESKPBX_* twin.
func envOrDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// dbFlags is the flag set of a command on the database, with its -db.
func dbFlags(cmd *command) (*flag.FlagSet, *string) {
	fs := newFlagSet(cmd)
	return fs, dbFlag(fs)
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", envOrDefault("DESKPBX_DB", defaultDBPath), "SQLite database `PATH` (env DESKPBX_DB)")
}

// openDB opens the database at path. Only commands that create things
// from nothing may create the file: a mistyped -db for a list or an
// extension should fail, not leave an empty database behind.
// table starts a listing with its header line; Flush prints it aligned.
func (c *cli) table(header string) *tabwriter.Writer {
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	return w
}

// listOf runs a list command: [-db PATH] [DOMAIN], list given the tenant
// of DOMAIN, or 0 for all of them.
func (c *cli) listOf(cmd *command, args []string, list func(ctx context.Context, d *store.DB, tenantID int64) error) error {
	fs, db := dbFlags(cmd)
	if err := c.parse(fs, cmd, args, 0, 1); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		ctx := context.Background()
		tenantID, err := tenantArg(ctx, d, fs)
		if err != nil {
			return err
		}
		return list(ctx, d, tenantID)
	})
}

// withDB runs fn on the database at path, closed when fn returns.
func withDB(path string, create bool, fn func(d *store.DB) error) error {
	d, err := openDB(path, create)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(d)
}

func openDB(path string, create bool) (*store.DB, error) {
	if !create {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (set -db or DESKPBX_DB, or create it with: deskpbx tenant add DOMAIN)", path)
		}
	}
	return store.Open(path)
}

// tenantArg is the tenant named by a list command's optional DOMAIN
// argument: its ID, or 0 (every tenant) when none is given.
func tenantArg(ctx context.Context, d *store.DB, fs *flag.FlagSet) (int64, error) {
	if fs.NArg() == 0 {
		return 0, nil
	}
	t, err := d.TenantByDomain(ctx, fs.Arg(0))
	if err != nil {
		return 0, err
	}
	return t.ID, nil
}
