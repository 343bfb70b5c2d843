package pbx_test

import (
	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
)

// The pbx tests' offices route with the real dial plan.
func init() {
	pbx.OfficeDialPlan = func(db *store.DB, hd *hotdesk.Service) pbx.DialPlan { return dialplan.New(db, hd) }
}
