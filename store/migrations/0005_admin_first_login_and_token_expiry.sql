-- An account whose password was generated (the first admin) must choose
-- its own before doing anything else; API tokens expire.
ALTER TABLE admins ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE admin_tokens ADD COLUMN expires_at INTEGER;
UPDATE admin_tokens SET expires_at = created_at + 90 * 86400000;
