-- The certificate a tenant trusts for its mail server, in PEM: the
-- server's own self-signed certificate or the CA of a local relay. Empty:
-- the system's roots, as a public mail provider needs. There is no
-- "skip verification": it would hand the SMTP password to anyone on the
-- path.
ALTER TABLE voicemail_smtp ADD COLUMN ca_pem TEXT NOT NULL DEFAULT '' CHECK (length(ca_pem) <= 65536);
