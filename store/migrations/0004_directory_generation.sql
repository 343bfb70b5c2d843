-- A counter bumped by every change to tenants and extensions, so the SIP
-- side can keep credentials in memory and still see a change made by the
-- CLI or the admin page within a moment, without querying per request.
CREATE TABLE directory_generation (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	n  INTEGER NOT NULL
);
INSERT INTO directory_generation (id, n) VALUES (1, 0);

CREATE TRIGGER extensions_insert_gen AFTER INSERT ON extensions BEGIN UPDATE directory_generation SET n = n + 1; END;
CREATE TRIGGER extensions_update_gen AFTER UPDATE ON extensions BEGIN UPDATE directory_generation SET n = n + 1; END;
CREATE TRIGGER extensions_delete_gen AFTER DELETE ON extensions BEGIN UPDATE directory_generation SET n = n + 1; END;
CREATE TRIGGER tenants_insert_gen AFTER INSERT ON tenants BEGIN UPDATE directory_generation SET n = n + 1; END;
CREATE TRIGGER tenants_update_gen AFTER UPDATE ON tenants BEGIN UPDATE directory_generation SET n = n + 1; END;
CREATE TRIGGER tenants_delete_gen AFTER DELETE ON tenants BEGIN UPDATE directory_generation SET n = n + 1; END;
