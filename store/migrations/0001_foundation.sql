-- Tenants are SIP domains; the realm of every digest challenge is the domain.
CREATE TABLE tenants (
	id          INTEGER PRIMARY KEY,
	domain      TEXT    NOT NULL UNIQUE COLLATE NOCASE
	            CHECK (length(domain) BETWEEN 1 AND 253 AND domain = lower(domain)),
	is_default  INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),
	-- The hot-desk company PIN, hashed; NULL when the tenant has none.
	company_pin TEXT,
	created_at  INTEGER NOT NULL
);
-- At most one default tenant, enforced here rather than trusted to callers.
CREATE UNIQUE INDEX tenants_one_default ON tenants (is_default) WHERE is_default = 1;

CREATE TABLE extensions (
	id           INTEGER PRIMARY KEY,
	tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number       TEXT    NOT NULL
	             CHECK (length(number) BETWEEN 1 AND 15 AND number NOT GLOB '*[^0-9]*'),
	-- Digest HA1 = H(number:realm:password); the password itself is never stored.
	ha1_md5      TEXT    NOT NULL CHECK (length(ha1_md5) = 32),
	ha1_sha256   TEXT    NOT NULL CHECK (length(ha1_sha256) = 64),
	-- Voicemail PIN, hashed; NULL when unset.
	pin_hash     TEXT,
	display_name TEXT    NOT NULL DEFAULT '' CHECK (length(display_name) <= 64),
	created_at   INTEGER NOT NULL,
	UNIQUE (tenant_id, number)
);

-- Registrations, written through from the in-memory location service so a
-- restart loses none.
CREATE TABLE bindings (
	extension_id INTEGER NOT NULL REFERENCES extensions (id) ON DELETE CASCADE,
	contact      TEXT    NOT NULL CHECK (length(contact) BETWEEN 1 AND 1024),
	source       TEXT    NOT NULL,
	transport    TEXT    NOT NULL,
	call_id      TEXT    NOT NULL,
	cseq         INTEGER NOT NULL,
	user_agent   TEXT    NOT NULL DEFAULT '',
	expires_at   INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	PRIMARY KEY (extension_id, contact)
) WITHOUT ROWID;
