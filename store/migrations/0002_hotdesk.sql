-- Hot desking: who may hot-desk, who sits where, who tried what, and who
-- is locked out. Every rule that must hold however many phones try at once
-- is a constraint here, not a check in Go.

-- Per-tenant switches. The SEAT's tenant decides whether *072/*073 work at
-- a phone; auto-logout frees that tenant's seats. An extension needs a
-- hot-desk entry before it can log in anywhere, so both default to on.
ALTER TABLE tenants ADD COLUMN hotdesk_login INTEGER NOT NULL DEFAULT 1 CHECK (hotdesk_login IN (0, 1));
ALTER TABLE tenants ADD COLUMN hotdesk_logout INTEGER NOT NULL DEFAULT 1 CHECK (hotdesk_logout IN (0, 1));
-- "HH:MM" in the server's local time zone: seats taken before the last such
-- moment are freed. NULL: no daily auto-logout.
ALTER TABLE tenants ADD COLUMN autologout_at TEXT
	CHECK (autologout_at IS NULL OR (autologout_at GLOB '[0-2][0-9]:[0-5][0-9]' AND autologout_at < '24'));
-- Seconds a session may last. NULL: no limit.
ALTER TABLE tenants ADD COLUMN autologout_after INTEGER CHECK (autologout_after IS NULL OR autologout_after > 0);

CREATE TABLE hotdesk_entries (
	extension_id     INTEGER PRIMARY KEY REFERENCES extensions (id) ON DELETE CASCADE,
	-- Unique across all tenants: the ID alone says who is logging in.
	hotdesk_id       TEXT    NOT NULL UNIQUE
	                 CHECK (length(hotdesk_id) BETWEEN 4 AND 15 AND hotdesk_id NOT GLOB '*[^0-9]*'),
	-- Own hot-desk password, hashed; NULL: the voicemail PIN is used.
	pin_hash         TEXT,
	-- Admin override of where calls go while seated; NULL: the seat rings.
	dial_override_id INTEGER REFERENCES extensions (id) ON DELETE SET NULL,
	description      TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 200),
	created_at       INTEGER NOT NULL
);
CREATE INDEX hotdesk_entries_override ON hotdesk_entries (dial_override_id) WHERE dial_override_id IS NOT NULL;

-- One person per phone (device_id UNIQUE), one phone per person (person_id
-- is the key): however logins race, the database cannot hold two of either.
CREATE TABLE hotdesk_sessions (
	person_id INTEGER PRIMARY KEY REFERENCES hotdesk_entries (extension_id) ON DELETE CASCADE,
	device_id INTEGER NOT NULL UNIQUE REFERENCES extensions (id) ON DELETE CASCADE,
	since     INTEGER NOT NULL,
	how       TEXT    NOT NULL CHECK (how IN ('*072', 'admin')),
	source    TEXT    NOT NULL DEFAULT ''
);

-- Append-only history. No foreign keys: it must outlive what it mentions,
-- so people and seats are kept as AOR text. Never holds a PIN.
CREATE TABLE hotdesk_audit (
	id             INTEGER PRIMARY KEY,
	at             INTEGER NOT NULL,
	tenant_id      INTEGER,  -- the person's tenant, else the seat's
	seat_tenant_id INTEGER,
	actor          TEXT    NOT NULL,  -- seat AOR, admin name or 'system'
	action         TEXT    NOT NULL,
	person         TEXT    NOT NULL DEFAULT '',
	seat           TEXT    NOT NULL DEFAULT '',
	source         TEXT    NOT NULL DEFAULT '',
	id_tried       TEXT    NOT NULL DEFAULT '' CHECK (length(id_tried) <= 16),
	outcome        TEXT    NOT NULL,
	detail         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX hotdesk_audit_at ON hotdesk_audit (at);
CREATE INDEX hotdesk_audit_tenant ON hotdesk_audit (tenant_id, at);
CREATE INDEX hotdesk_audit_seat_tenant ON hotdesk_audit (seat_tenant_id, at);
CREATE TRIGGER hotdesk_audit_append_only BEFORE UPDATE ON hotdesk_audit
BEGIN
	SELECT RAISE(ABORT, 'the hot-desk audit log is append-only');
END;

-- Guessing defence, kept here so a restart does not hand out fresh tries.
-- kind 'id': key is a hot-desk ID; kind 'seat': key is the device
-- extension's row ID.
CREATE TABLE hotdesk_failures (
	kind TEXT    NOT NULL CHECK (kind IN ('id', 'seat')),
	key  TEXT    NOT NULL,
	at   INTEGER NOT NULL
);
CREATE INDEX hotdesk_failures_key ON hotdesk_failures (kind, key, at);

CREATE TABLE hotdesk_locks (
	kind  TEXT    NOT NULL CHECK (kind IN ('id', 'seat')),
	key   TEXT    NOT NULL,
	until INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
