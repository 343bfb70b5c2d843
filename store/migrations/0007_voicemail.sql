-- Voicemail. Audio lives in files in the data directory; a row names its
-- file and is written only once the file is on disk, so a crash can leave
-- a file without a row (swept at start) but never a listed message
-- without audio.

-- Per-extension mailbox settings. No row: the defaults (voicemail on,
-- the server's ring timeout, no e-mail, spoken greeting).
CREATE TABLE voicemail_settings (
	extension_id   INTEGER PRIMARY KEY REFERENCES extensions (id) ON DELETE CASCADE,
	enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
	-- Seconds a call rings before it goes to voicemail; NULL: the server's.
	no_answer_secs INTEGER CHECK (no_answer_secs IS NULL OR no_answer_secs BETWEEN 5 AND 300),
	email          TEXT    NOT NULL DEFAULT '' CHECK (length(email) <= 254),
	-- Files in the data directory; NULL: none recorded.
	greeting_file  TEXT CHECK (greeting_file IS NULL OR length(greeting_file) BETWEEN 1 AND 255),
	name_file      TEXT CHECK (name_file IS NULL OR length(name_file) BETWEEN 1 AND 255)
);

CREATE TABLE voicemail_messages (
	id            INTEGER PRIMARY KEY,
	extension_id  INTEGER NOT NULL REFERENCES extensions (id) ON DELETE CASCADE,
	caller_number TEXT    NOT NULL DEFAULT '' CHECK (length(caller_number) <= 64),
	caller_name   TEXT    NOT NULL DEFAULT '' CHECK (length(caller_name) <= 64),
	at            INTEGER NOT NULL,
	duration_ms   INTEGER NOT NULL CHECK (duration_ms >= 0),
	folder        TEXT    NOT NULL DEFAULT 'new' CHECK (folder IN ('new', 'saved')),
	file          TEXT    NOT NULL UNIQUE CHECK (length(file) BETWEEN 1 AND 255)
);
CREATE INDEX voicemail_messages_box ON voicemail_messages (extension_id, at);

-- PIN guessing defence for *97/*98, as for hot desking: kind 'mailbox'
-- keys a mailbox's extension row ID, kind 'phone' the calling phone's.
CREATE TABLE voicemail_failures (
	kind TEXT    NOT NULL CHECK (kind IN ('mailbox', 'phone')),
	key  TEXT    NOT NULL,
	at   INTEGER NOT NULL
);
CREATE INDEX voicemail_failures_key ON voicemail_failures (kind, key, at);

CREATE TABLE voicemail_locks (
	kind  TEXT    NOT NULL CHECK (kind IN ('mailbox', 'phone')),
	key   TEXT    NOT NULL,
	until INTEGER NOT NULL,
	PRIMARY KEY (kind, key)
) WITHOUT ROWID;
