-- Per-tenant webhooks: events are POSTed to url as JSON, signed with the
-- hook's secret (HMAC-SHA256). The secret is kept as is: signing needs it.
CREATE TABLE webhooks (
	id         INTEGER PRIMARY KEY,
	tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	url        TEXT    NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
	secret     TEXT    NOT NULL CHECK (length(secret) >= 32),
	created_at INTEGER NOT NULL,
	UNIQUE (tenant_id, url)
);

-- The outbox: one row per event and hook, written before any delivery is
-- tried, so a restart loses none. A row is pending until delivered_at or
-- failed_at (attempts exhausted) is set; body is the JSON exactly as sent.
CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY,
	webhook_id   INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	event        TEXT    NOT NULL,
	body         BLOB    NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,
	last_error   TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	delivered_at INTEGER,
	failed_at    INTEGER
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at)
	WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id);
