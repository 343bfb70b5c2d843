-- Outside lines (issue 10): trunks to SIP providers, the provider numbers
-- (DIDs) that ring extensions, and the per-extension and per-tenant
-- settings of outside calls. Kept in tables of their own so the tables of
-- extensions and tenants stay as they are.

-- A trunk's password is stored in clear: answering a provider's 401/407
-- needs it, not a hash. It is never shown back or logged.
CREATE TABLE trunks (
	id           INTEGER PRIMARY KEY,
	tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
	host         TEXT    NOT NULL CHECK (length(host) BETWEEN 1 AND 260), -- host[:port]
	transport    TEXT    NOT NULL DEFAULT 'udp' CHECK (transport IN ('udp', 'tcp')),
	username     TEXT    NOT NULL DEFAULT '' CHECK (length(username) <= 64),
	password     TEXT    NOT NULL DEFAULT '' CHECK (length(password) <= 128),
	register     INTEGER NOT NULL DEFAULT 0 CHECK (register IN (0, 1)),
	from_domain  TEXT    NOT NULL DEFAULT '' CHECK (length(from_domain) <= 253),
	-- Written by the running server: 'registered' (-register), 'reachable'
	-- (answers our OPTIONS), 'failing', or 'unregistered' (not tried yet).
	state        TEXT    NOT NULL DEFAULT 'unregistered' CHECK (state IN ('unregistered', 'registered', 'reachable', 'failing')),
	state_reason TEXT    NOT NULL DEFAULT '' CHECK (length(state_reason) <= 200),
	state_at     INTEGER NOT NULL DEFAULT 0,
	created_at   INTEGER NOT NULL,
	UNIQUE (tenant_id, name)
);

-- A provider number belongs to one tenant and rings one extension.
CREATE TABLE dids (
	id           INTEGER PRIMARY KEY,
	tenant_id    INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	number       TEXT    NOT NULL UNIQUE CHECK (length(number) BETWEEN 1 AND 20 AND ltrim(number, '+') NOT GLOB '*[^0-9]*'),
	extension_id INTEGER NOT NULL REFERENCES extensions (id) ON DELETE CASCADE,
	created_at   INTEGER NOT NULL
);
CREATE INDEX dids_extension ON dids (extension_id);

CREATE TABLE extension_outside (
	extension_id  INTEGER PRIMARY KEY REFERENCES extensions (id) ON DELETE CASCADE,
	outside_cid   TEXT NOT NULL DEFAULT '' CHECK (length(outside_cid) <= 20),
	emergency_cid TEXT NOT NULL DEFAULT '' CHECK (length(emergency_cid) <= 20),
	permission    TEXT NOT NULL DEFAULT 'national' CHECK (permission IN ('internal', 'national', 'international'))
);

CREATE TABLE tenant_outside (
	tenant_id         INTEGER PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	main_number       TEXT NOT NULL DEFAULT '' CHECK (length(main_number) <= 20),
	-- The national prefix rule: an outside number (after the strip prefix)
	-- starting with + or 00 is international unless it starts with one of
	-- these comma-separated prefixes (the own country, e.g. '+49,0049');
	-- every other outside number is national.
	national_prefix   TEXT NOT NULL DEFAULT '' CHECK (length(national_prefix) <= 64),
	strip_prefix      TEXT NOT NULL DEFAULT '' CHECK (length(strip_prefix) <= 8),
	emergency_numbers TEXT NOT NULL DEFAULT '911,112' CHECK (length(emergency_numbers) <= 200),
	notify_email      TEXT NOT NULL DEFAULT '' CHECK (length(notify_email) <= 254)
);
