package store

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"
)

// The trunks migration's rows for TestMigrationsForwardFromEveryEarlierVersion,
// registered here so its number can change at a merge.
func init() {
	// Outside lines (migration *_trunks.sql; renumbered at merge, so the
	// fixture finds its number by name).
	fixtures[trunksMigration()] = fixture{
		insert: func(ctx context.Context, tx *sql.Tx) error {
			return execAll(ctx, tx,
				q(`INSERT INTO trunks (id, tenant_id, name, host, username, password, register, created_at) VALUES (1, 1, 'main', 'sip.provider.example', 'acme', 'pw-clear', 1, 1700000000000)`),
				q(`INSERT INTO dids (tenant_id, number, extension_id, created_at) VALUES (1, '+15550101', 10, 1700000000000)`),
				q(`INSERT INTO extension_outside (extension_id, emergency_cid, permission) VALUES (10, '+15550150', 'international')`),
			)
		},
		check: func(t *testing.T, ctx context.Context, db *DB) {
			ks, err := db.Trunks(ctx, 1)
			if err != nil || len(ks) != 1 || ks[0].Password.Reveal() != "pw-clear" || !ks[0].Register {
				t.Errorf("trunks: %+v, %v", ks, err)
			}
			o, err := db.ExtensionOutside(ctx, 10)
			if err != nil || o.DID != "+15550101" || o.EmergencyCID != "+15550150" || o.Permission != PermInternational {
				t.Errorf("outside settings of 1001: %+v, %v", o, err)
			}
		},
	}
}

// trunksMigration is the number of the migration that adds trunks.
func trunksMigration() int {
	names, _ := fs.Glob(migrationFS, "migrations/*_trunks.sql")
	if len(names) != 1 {
		return -1
	}
	return migrationNumber(names[0])
}
