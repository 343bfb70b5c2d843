package dialplan

import (
	"context"
	"testing"

	"deskpbx/pbx"
	"deskpbx/store"
)

// withTrunk gives acme.example a trunk, Ada (1001) a DID and an outside
// caller ID, and the desk phone 1003 an emergency caller ID and no
// outside permission.
func withTrunk(t *testing.T, db *store.DB) *store.Trunk {
	t.Helper()
	ctx := context.Background()
	k, err := db.CreateTrunk(ctx, store.NewTrunk{Domain: "acme.example", Name: "main", Host: "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateDID(ctx, "acme.example", "+15550101", "1001"); err != nil {
		t.Fatal(err)
	}
	cid, ecid, internal := "+15550199", "+15550150", store.PermInternal
	if _, err := db.SetExtensionOutside(ctx, "acme.example", "1001", store.ExtensionOutsideSettings{OutsideCID: &cid}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SetExtensionOutside(ctx, "acme.example", "1003", store.ExtensionOutsideSettings{EmergencyCID: &ecid, Permission: &internal}); err != nil {
		t.Fatal(err)
	}
	main, strip, national := "+15550100", "9", []string{"+1"}
	if _, err := db.SetTenantOutside(ctx, "acme.example", store.TenantOutsideSettings{MainNumber: &main, StripPrefix: &strip, NationalPrefixes: &national}); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestOutsideCallsGoAsTheHotDeskerWithinTheirPermission(t *testing.T) {
	db, hd, exts := office(t)
	withTrunk(t, db)
	p := New(db, hd)
	ctx := context.Background()

	// The desk phone itself may not call outside: a spoken refusal.
	r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "915557001"})
	if r.Feature == nil || r.Feature.Name != "outside-not-allowed" || r.Outside != nil {
		t.Fatalf("desk phone dials out: %+v, want the spoken refusal", r)
	}
	// Ada sits down: from the next call, her number and her permission.
	if _, err := hd.Login(ctx, "5551234", "4826", exts["1003"], "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	r = p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "915557001"})
	if r.Outside == nil || r.Outside.Number != "15557001" || r.Outside.CallerID != "+15550199" || r.Outside.Trunk.Name != "main" || r.Outside.Emergency {
		t.Fatalf("Ada at the desk dials 9 15557001: %+v %+v, want 15557001 out as +15550199", r, r.Outside)
	}
	// National (own country code) yes, international no.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "+12025550100"}); r.Outside == nil {
		t.Errorf("Ada dials +1 number: %+v, want it out", r)
	}
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "+442071234567"}); r.Feature == nil {
		t.Errorf("Ada (national) dials +44: %+v, want the spoken refusal", r)
	}
	// Short numbers that are no extension stay unknown.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "12345"}); r.Reject == nil || r.Reject.Code != 404 {
		t.Errorf("12345: %+v, want 404", r)
	}
	// Ada's own DID, dialled inside, rings her seat without the trunk.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "+15550101"}); r.Ring == nil || r.Ring.Target.Number != "1003" || r.Outside != nil {
		t.Errorf("1002 dials Ada's DID: %+v, want it to ring her seat", r)
	}
	// 1002 has no caller ID of its own and no DID: the main number.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "5557001"}); r.Outside == nil || r.Outside.CallerID != "+15550100" {
		t.Errorf("1002 dials out: %+v, want the tenant's main number", r)
	}
}

// Every refusal of an outside call is explained, as early media, and
// ends with the status that says why: 403 for a number the person may
// not dial, 503 for a line that is down (emergency calls too), 404 for
// an office without an outside line.
func TestOutsideRefusalsAreSpokenThenEndWithTheirStatus(t *testing.T) {
	db, hd, exts := office(t)
	withTrunk(t, db)
	p := New(db, hd)
	ctx := context.Background()
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "915557001"}); r.Feature == nil || r.Feature.Refuse != 403 {
		t.Errorf("1003 (internal only) dials out: %+v, want a spoken refusal ending in 403", r)
	}
	r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "5557001"})
	if r.Outside == nil || r.Outside.Unavailable == nil || r.Outside.Unavailable.Refuse != 503 {
		t.Errorf("1002 dials out: %+v, want a spoken 503 should the line be down", r.Outside)
	}
	r = p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "911"})
	if r.Outside == nil || r.Outside.Unavailable == nil || r.Outside.Unavailable.Refuse != 503 {
		t.Errorf("911: %+v, want a spoken 503 should the line be down", r.Outside)
	}
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["2001"], Dialled: "5557001"}); r.Feature == nil || r.Feature.Refuse != 404 || r.Outside != nil {
		t.Errorf("2001, whose office has no trunk, dials out: %+v, want a spoken refusal ending in 404", r)
	}
}

func TestEmergencyCallsGoFirstWithThePhonesCallerIDAndAreAudited(t *testing.T) {
	db, hd, exts := office(t)
	withTrunk(t, db)
	p := New(db, hd)
	var told []EmergencyCall
	p.OnEmergency(func(e EmergencyCall) { told = append(told, e) })
	ctx := context.Background()
	if _, err := hd.Login(ctx, "5551234", "4826", exts["1003"], "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	// Ada is seated, the phone may not call outside: 112 goes anyway,
	// as the phone, with the phone's emergency caller ID.
	r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "112", Source: "127.0.0.1:5062"})
	if r.Outside == nil || !r.Outside.Emergency || r.Outside.CallerID != "+15550150" || r.Identity.Number != "1003" {
		t.Fatalf("112 from the desk: %+v %+v, want out with +15550150 as 1003", r, r.Outside)
	}
	if len(told) != 1 || told[0].Phone != "1003@acme.example" || told[0].Person != "1001@acme.example" || told[0].Number != "112" {
		t.Fatalf("notification = %+v", told)
	}
	log, err := db.HotdeskAudit(ctx, exts["1003"].TenantID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) == 0 || log[0].Action != "emergency_call" || log[0].Seat != "1003@acme.example" || log[0].Outcome != "placed" {
		t.Fatalf("audit = %+v, want the emergency call first", log)
	}
	// A tenant without a trunk: refused, but still audited.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["2001"], Dialled: "911"}); r.Reject == nil || r.Reject.Code != 503 {
		t.Fatalf("911 at a tenant without trunk: %+v, want 503", r)
	}
}

func TestProviderCallsRingTheDIDsPerson(t *testing.T) {
	db, hd, exts := office(t)
	k := withTrunk(t, db)
	p := New(db, hd)
	ctx := context.Background()
	if _, err := hd.Login(ctx, "5551234", "4826", exts["1003"], "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	r := p.RouteInbound(ctx, &pbx.InboundCall{Trunk: k, RequestUser: "acme", ToUser: "+15550101", CallerNumber: "+15557777", CallerName: "Cust\"omer"})
	if r.Ring == nil || r.Ring.Callee.Number != "1001" || r.Ring.Target.Number != "1003" || r.Identity.Number != "+15557777" || r.Identity.DisplayName != "Customer" {
		t.Fatalf("call to Ada's DID: %+v, want it to ring the desk showing +15557777", r)
	}
	if r := p.RouteInbound(ctx, &pbx.InboundCall{Trunk: k, RequestUser: "+15550999", CallerNumber: "x"}); r.Reject == nil || r.Reject.Code != 404 {
		t.Fatalf("unknown DID: %+v, want 404", r)
	}
	// A trunk of another tenant cannot ring acme's numbers.
	other, err := db.CreateTrunk(ctx, store.NewTrunk{Domain: "beta.example", Name: "b", Host: "192.0.2.20"})
	if err != nil {
		t.Fatal(err)
	}
	if r := p.RouteInbound(ctx, &pbx.InboundCall{Trunk: other, RequestUser: "+15550101"}); r.Reject == nil || r.Reject.Code != 404 {
		t.Fatalf("beta's trunk to acme's DID: %+v, want 404", r)
	}
}
