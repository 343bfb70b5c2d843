package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"deskpbx/store"
	"deskpbx/webhook"
)

func (c *cli) webhookAdd(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	if err := c.parse(fs, cmd, args, 2, 2); err != nil {
		return err
	}
	domain, url := strings.ToLower(strings.TrimSpace(fs.Arg(0))), strings.TrimSpace(fs.Arg(1))
	if err := store.ValidDomain(domain); err != nil {
		return err
	}
	if err := webhook.ValidURL(url); err != nil {
		return err
	}
	return withDB(*db, false, func(d *store.DB) error {
		h, err := webhook.Add(context.Background(), d, domain, url)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "added webhook %d for %s: %s\n", h.ID, h.Domain, h.URL)
		fmt.Fprintf(c.stdout, "signing secret (shown only now; keep it in the receiver): %s\n", h.Secret)
		fmt.Fprintf(c.stdout, "events: %s; each POST carries %s: sha256=HMAC-SHA256(secret, %s + \".\" + body)\n",
			strings.Join(webhook.Events, ", "), webhook.SignatureHeader, webhook.TimestampHeader)
		return nil
	})
}

func (c *cli) webhookList(cmd *command, args []string) error {
	return c.listOf(cmd, args, func(ctx context.Context, d *store.DB, tenantID int64) error {
		hooks, err := d.Webhooks(ctx, tenantID)
		if err != nil {
			return err
		}
		w := c.table("ID\tDOMAIN\tURL\tPENDING\tFAILED\tCREATED")
		for _, h := range hooks {
			fmt.Fprintf(w, "%d\t%s\t%s\t%d\t%d\t%s\n", h.ID, h.Domain, h.URL, h.Pending, h.Failed, h.CreatedAt.Format("2006-01-02 15:04"))
		}
		return w.Flush()
	})
}

func (c *cli) webhookRemove(cmd *command, args []string) error {
	fs, db := dbFlags(cmd)
	if err := c.parse(fs, cmd, args, 1, 1); err != nil {
		return err
	}
	id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
	if err != nil || id <= 0 {
		return usagef("%s: %q is no webhook ID (see deskpbx webhook list)", cmd.name, fs.Arg(0))
	}
	return withDB(*db, false, func(d *store.DB) error {
		if err := d.DeleteWebhook(context.Background(), id); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "removed webhook %d and its undelivered events\n", id)
		return nil
	})
}
