package dialplan

import (
	"context"
	"testing"

	"deskpbx/pbx"
)

// *8 + extension picks up for that extension of the caller's tenant, *8
// alone for anyone of it; an extension of another tenant is unknown.
func TestPickupCodeRoutesToAPickupInTheCallersTenant(t *testing.T) {
	db, hd, exts := office(t)
	p := New(db, hd)
	route := func(caller, dialled string) pbx.Route {
		return p.Route(context.Background(), &pbx.CallRequest{Caller: exts[caller], Dialled: dialled})
	}
	if r := route("1003", PickupCode+"1001"); r.Pickup == nil || r.Pickup.Callee == nil || r.Pickup.Callee.ID != exts["1001"].ID ||
		r.Pickup.TenantID != exts["1003"].TenantID || r.Ring != nil || r.Feature != nil || r.Reject != nil {
		t.Errorf("*81001: route %+v, want a directed pickup of 1001", r)
	}
	if r := route("1003", PickupCode); r.Pickup == nil || r.Pickup.Callee != nil || r.Pickup.TenantID != exts["1003"].TenantID {
		t.Errorf("*8: route %+v, want a pickup of any call of acme's", r)
	}
	if r := route("2001", PickupCode+"1001"); r.Pickup != nil || r.Reject == nil || r.Reject.Code != 404 {
		t.Errorf("*81001 from beta: route %+v, want 404 (not beta's number)", r)
	}
}
