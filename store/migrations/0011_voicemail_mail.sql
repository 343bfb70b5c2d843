-- Voicemail by e-mail. Each tenant may name one SMTP server; a message
-- left in a mailbox with an e-mail address, of a tenant with a server,
-- gets an outbox row in the same transaction as the message's own row
-- (the trigger below), so a crash or a server down loses no mail.
CREATE TABLE voicemail_smtp (
	tenant_id    INTEGER PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
	host         TEXT    NOT NULL CHECK (length(host) BETWEEN 1 AND 253),
	port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
	security     TEXT    NOT NULL CHECK (security IN ('starttls', 'tls', 'none')),
	username     TEXT    NOT NULL DEFAULT '',
	-- Kept as is: logging in needs it. Never shown back.
	password     TEXT    NOT NULL DEFAULT '',
	from_addr    TEXT    NOT NULL CHECK (length(from_addr) BETWEEN 3 AND 254),
	-- 1: a message is deleted from the mailbox once mailed.
	delete_after INTEGER NOT NULL DEFAULT 0 CHECK (delete_after IN (0, 1))
);

-- One row per message to mail; deleted once sent. A message deleted
-- before then takes its row with it: there is no audio left to send.
CREATE TABLE voicemail_mail_outbox (
	id         INTEGER PRIMARY KEY,
	message_id INTEGER NOT NULL UNIQUE REFERENCES voicemail_messages (id) ON DELETE CASCADE,
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_at    INTEGER NOT NULL,
	last_error TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX voicemail_mail_outbox_due ON voicemail_mail_outbox (next_at);

CREATE TRIGGER voicemail_mail_enqueue AFTER INSERT ON voicemail_messages
WHEN EXISTS (SELECT 1 FROM voicemail_settings s
	JOIN extensions e ON e.id = s.extension_id
	JOIN voicemail_smtp m ON m.tenant_id = e.tenant_id
	WHERE s.extension_id = NEW.extension_id AND s.email != '')
BEGIN
	INSERT INTO voicemail_mail_outbox (message_id, next_at, created_at) VALUES (NEW.id, NEW.at, NEW.at);
END;
