package pbx

import (
	"net/netip"
	"testing"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// One provider serving two tenants from one address: its call goes to
// the trunk of the tenant whose DID it is for; a request to our
// registration's Contact goes to that trunk whatever its source; a
// stranger matches nothing.
func TestTrunkMatchBySourceTokenAndDIDTenant(t *testing.T) {
	provider := []netip.Addr{netip.MustParseAddr("192.0.2.10")}
	tbl := newTrunkTable()
	tbl.lines[1] = &trunkLine{trunk: &store.Trunk{ID: 1, TenantID: 1, Name: "acme"}, addrs: provider, token: "tok-acme"}
	tbl.lines[2] = &trunkLine{trunk: &store.Trunk{ID: 2, TenantID: 2, Name: "beta"}, addrs: provider, token: "tok-beta"}
	tbl.dids = map[string]int64{"+15550101": 1, "+15550202": 2}
	invite := func(source, ruri, to string) *sip.Request {
		var u sip.Uri
		if err := sip.ParseUri(ruri, &u); err != nil {
			t.Fatal(err)
		}
		req := sip.NewRequest(sip.INVITE, u)
		req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: "provider.example"}})
		req.SetSource(source)
		return req
	}
	for _, c := range []struct {
		what, source, ruri, to, want string
	}{
		{"beta's DID from the provider", "192.0.2.10:5080", "sip:+15550202@pbx.example", "+15550202", "beta"},
		{"acme's DID in To only", "192.0.2.10:5060", "sip:acme@pbx.example", "+15550101", "acme"},
		{"unknown DID: the oldest trunk", "192.0.2.10:5060", "sip:+19999@pbx.example", "+19999", "acme"},
		{"to beta's registration from elsewhere", "198.51.100.7:5060", "sip:beta@203.0.113.1;dpbx=tok-beta", "+15550202", "beta"},
		{"a stranger", "198.51.100.7:5060", "sip:+15550101@pbx.example", "+15550101", ""},
	} {
		got := ""
		if l := tbl.match(invite(c.source, c.ruri, c.to)); l != nil {
			got = l.trunk.Name
		}
		if got != c.want {
			t.Errorf("%s: matched %q, want %q", c.what, got, c.want)
		}
	}
}
