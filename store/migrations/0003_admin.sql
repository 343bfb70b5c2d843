-- Accounts of the admin web page and JSON API. A NULL tenant_id is a system
-- admin (all tenants); otherwise the admin manages that tenant only and goes
-- with it when the tenant is deleted.
CREATE TABLE admins (
	id            INTEGER PRIMARY KEY,
	username      TEXT    NOT NULL UNIQUE COLLATE NOCASE
	              CHECK (length(username) BETWEEN 1 AND 64),
	password_hash TEXT    NOT NULL,
	tenant_id     INTEGER REFERENCES tenants (id) ON DELETE CASCADE,
	created_at    INTEGER NOT NULL
);

-- Browser sessions. Only a hash of the cookie value is kept, so a copy of
-- the database does not let anyone in.
CREATE TABLE admin_sessions (
	token_hash TEXT    PRIMARY KEY CHECK (length(token_hash) = 64),
	admin_id   INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	client_ip  TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

-- API bearer tokens, hashed like sessions; the token is shown once.
CREATE TABLE admin_tokens (
	id         INTEGER PRIMARY KEY,
	admin_id   INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	token_hash TEXT    NOT NULL UNIQUE CHECK (length(token_hash) = 64),
	created_at INTEGER NOT NULL,
	last_used  INTEGER
);
CREATE INDEX admin_tokens_admin ON admin_tokens (admin_id);
