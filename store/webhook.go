package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Webhook is one tenant's endpoint for event notifications.
type Webhook struct {
	ID        int64
	TenantID  int64
	Domain    string
	URL       string
	Secret    string // signs every delivery; shown to the admin once, at creation
	CreatedAt time.Time

	Pending int // deliveries still to be tried
	Failed  int // deliveries given up on
}

// WebhookDelivery is one event on its way to one webhook.
type WebhookDelivery struct {
	ID        int64
	WebhookID int64
	URL       string
	Secret    string
	Event     string
	Body      []byte
	Attempts  int // made so far
}

// CreateWebhook adds a webhook for the tenant domain.
func (db *DB) CreateWebhook(ctx context.Context, domain, url, secret string) (*Webhook, error) {
	t, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		return nil, err
	}
	now := db.now()
	res, err := db.exec(ctx, `INSERT INTO webhooks (tenant_id, url, secret, created_at) VALUES (?, ?, ?, ?)`,
		t.ID, url, secret, now)
	if isUniqueViolation(err) {
		return nil, Errorf(ECONFLICT, "%s already has a webhook to %s", t.Domain, url)
	}
	if err != nil {
		return nil, err
	}
	id, _ := res.LastInsertId()
	return &Webhook{ID: id, TenantID: t.ID, Domain: t.Domain, URL: url, Secret: secret, CreatedAt: time.UnixMilli(now)}, nil
}

// Webhooks lists the webhooks of one tenant (tenantID 0: of all), with
// how many deliveries each has pending and failed.
func (db *DB) Webhooks(ctx context.Context, tenantID int64) ([]*Webhook, error) {
	return queryAll(ctx, db.sql, func(sc scanner) (*Webhook, error) {
		var w Webhook
		var created int64
		if err := sc.Scan(&w.ID, &w.TenantID, &w.Domain, &w.URL, &w.Secret, &created, &w.Pending, &w.Failed); err != nil {
			return nil, err
		}
		w.CreatedAt = time.UnixMilli(created)
		return &w, nil
	}, `SELECT w.id, w.tenant_id, t.domain, w.url, w.secret, w.created_at,
		(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.delivered_at IS NULL AND d.failed_at IS NULL),
		(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.failed_at IS NOT NULL)
		FROM webhooks w JOIN tenants t ON t.id = w.tenant_id
		WHERE ? = 0 OR w.tenant_id = ? ORDER BY t.domain, w.id`, tenantID, tenantID)
}

// DeleteWebhook removes a webhook and its undelivered events.
func (db *DB) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := db.exec(ctx, `DELETE FROM webhooks WHERE id = ?`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "no webhook %d", id)
	}
	return nil
}

// WebhookTenant returns the domain of tenant id and how many webhooks it
// has: a read, so that events of tenants without webhooks cost no write.
func (db *DB) WebhookTenant(ctx context.Context, id int64) (domain string, hooks int, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT domain, (SELECT count(*) FROM webhooks WHERE tenant_id = tenants.id)
		FROM tenants WHERE id = ?`, id).Scan(&domain, &hooks)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, Errorf(ENOTFOUND, "no tenant %d", id)
	}
	return domain, hooks, err
}

// EnqueueWebhookEvent writes one delivery of body per webhook of the
// tenant, due now, in one statement: when it returns, the event survives
// a restart. It returns how many webhooks will get it.
func (db *DB) EnqueueWebhookEvent(ctx context.Context, tenantID int64, event string, body []byte) (int, error) {
	now := db.now()
	res, err := db.exec(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, body, next_at, created_at)
		SELECT id, ?, ?, ?, ? FROM webhooks WHERE tenant_id = ?`, event, body, now, now, tenantID)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DueWebhookDeliveries returns up to limit pending deliveries due by now,
// oldest due first.
func (db *DB) DueWebhookDeliveries(ctx context.Context, limit int) ([]*WebhookDelivery, error) {
	return queryAll(ctx, db.sql, func(sc scanner) (*WebhookDelivery, error) {
		var d WebhookDelivery
		err := sc.Scan(&d.ID, &d.WebhookID, &d.URL, &d.Secret, &d.Event, &d.Body, &d.Attempts)
		return &d, err
	}, `SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.body, d.attempts
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_at <= ?
		ORDER BY d.next_at, d.id LIMIT ?`, db.now(), limit)
}

// NextWebhookDue is when the earliest pending delivery falls due; false
// when none is pending.
func (db *DB) NextWebhookDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := db.sql.QueryRowContext(ctx, `SELECT min(next_at) FROM webhook_deliveries
		WHERE delivered_at IS NULL AND failed_at IS NULL`).Scan(&next)
	if err != nil || !next.Valid {
		return time.Time{}, false, err
	}
	return time.UnixMilli(next.Int64), true, nil
}

// WebhookDelivered records that delivery id was accepted by its receiver.
func (db *DB) WebhookDelivered(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = ?, last_error = ''
		WHERE id = ?`, db.now(), id)
	return err
}

// WebhookAttemptFailed records a failed attempt of delivery id: tried
// again at retryAt, or given up on when retryAt is zero.
func (db *DB) WebhookAttemptFailed(ctx context.Context, id int64, why string, retryAt time.Time) error {
	if len(why) > 500 {
		why = strings.ToValidUTF8(why[:500], "")
	}
	if retryAt.IsZero() {
		_, err := db.exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, failed_at = ?
			WHERE id = ?`, why, db.now(), id)
		return err
	}
	_, err := db.exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?, next_at = ?
		WHERE id = ?`, why, retryAt.UnixMilli(), id)
	return err
}

// PruneWebhookDeliveries deletes deliveries finished (delivered or given
// up on) before cutoff, so the outbox does not grow for years.
func (db *DB) PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := db.exec(ctx, `DELETE FROM webhook_deliveries
		WHERE coalesce(delivered_at, failed_at) < ?`, cutoff.UnixMilli())
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
