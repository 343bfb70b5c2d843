package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"deskpbx/store"
)

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

// readPassword reads the first line of stdin; a terminal is not read, so
// an admin running the command by hand gets a generated password rather
// than a prompt that would echo what they type.
func readPassword(in io.Reader) (string, error) {
	if in == nil {
		return "", nil
	}
	if f, ok := in.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
