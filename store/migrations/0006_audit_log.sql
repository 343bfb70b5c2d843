-- One audit log for hot-desk events and admin changes alike. It is
-- append-only: rows can be added, never changed or removed, so a change
-- cannot be hidden afterwards by anyone holding only the application.
ALTER TABLE hotdesk_audit RENAME TO audit_log;
DROP TRIGGER hotdesk_audit_append_only;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
