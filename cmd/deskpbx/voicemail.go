package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"
)

// voicemailList prints one line per message of one mailbox: folder,
// caller, time, duration.
func (c *cli) voicemailList(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	db := dbFlag(fs)
	if err := c.parse(fs, cmd, args, 2, 2); err != nil {
		return err
	}
	d, err := openDB(*db, false)
	if err != nil {
		return err
	}
	defer d.Close()
	ctx := context.Background()
	t, err := d.TenantByDomain(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	box, err := d.ExtensionByNumber(ctx, t.ID, fs.Arg(1))
	if err != nil {
		return err
	}
	msgs, err := d.VoicemailMessages(ctx, box.ID)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FOLDER\tFROM\tNAME\tTIME\tDURATION")
	for _, m := range msgs {
		from := m.CallerNumber
		if from == "" {
			from = "unknown"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.Folder, from, m.CallerName, m.At.Format("2006-01-02 15:04:05"),
			m.Duration.Round(100*time.Millisecond))
	}
	return w.Flush()
}
