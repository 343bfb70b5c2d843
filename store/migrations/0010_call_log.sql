-- The call log: one row per ended call, for the dashboard's calls per
-- hour. Rows older than the retention (cmd's sweep) are deleted, so it
-- stays small. tenant_id is the callee's tenant, else the caller's;
-- caller_tenant_id lets the caller's tenant see calls it placed elsewhere.
CREATE TABLE call_log (
	id               INTEGER PRIMARY KEY,
	tenant_id        INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	caller_tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
	call_id          TEXT    NOT NULL,
	caller           TEXT    NOT NULL, -- AOR the call was made as (caller ID)
	callee           TEXT    NOT NULL DEFAULT '', -- AOR dialled; '' for features and refused calls
	started_at       INTEGER NOT NULL,
	answered_at      INTEGER,
	ended_at         INTEGER NOT NULL,
	outcome          TEXT    NOT NULL
);
CREATE INDEX call_log_tenant ON call_log (tenant_id, started_at);
CREATE INDEX call_log_caller_tenant ON call_log (caller_tenant_id, started_at);
CREATE INDEX call_log_started ON call_log (started_at);
