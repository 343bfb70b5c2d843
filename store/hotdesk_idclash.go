package store

import "errors"

// idClash is the refusal of hot-desk ID id for person because another
// entry holds it. Its message never says whose; when the holder is of
// another tenant, HolderOfAnotherTenant gets it back for those who may
// know (a system admin), while a tenant admin is told only that the ID
// is in use.
func (tx *HotdeskTx) idClash(id string, person *Extension) error {
	clash := FieldErrorf("hotdesk_id", ECONFLICT, "hot-desk ID %s is already in use", id)
	var holder string
	var tenantID int64
	err := tx.tx.QueryRowContext(tx.ctx, `SELECT e.number || '@' || t.domain, e.tenant_id FROM hotdesk_entries h
		JOIN extensions e ON e.id = h.extension_id JOIN tenants t ON t.id = e.tenant_id
		WHERE h.hotdesk_id = ?`, id).Scan(&holder, &tenantID)
	if err != nil || tenantID == person.TenantID {
		return clash
	}
	return &idOfAnotherTenant{clash, holder}
}

// HolderOfAnotherTenant returns the AOR holding the hot-desk ID that err
// refused, when that is of another tenant than the entry written.
func HolderOfAnotherTenant(err error) (string, bool) {
	var e *idOfAnotherTenant
	if errors.As(err, &e) {
		return e.holder, true
	}
	return "", false
}

// idOfAnotherTenant unwraps to the *Error whose message is safe for all.
type idOfAnotherTenant struct {
	err    *Error
	holder string
}

func (e *idOfAnotherTenant) Error() string { return e.err.Error() }
func (e *idOfAnotherTenant) Unwrap() error { return e.err }
