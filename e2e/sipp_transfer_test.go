package e2e

import (
	"testing"
	"time"
)

// SIPp phones, the binary: alice calls bob and blind-transfers him to
// carol. alice sees 202 and the sipfrags 100, 180, 200 and is hung up;
// carol is asked for an offer and gets bob's answer in the ACK; bob is
// re-INVITEd with carol's offer. Both are hung up when deskpbx stops.
func TestSIPpBlindTransferByTheCaller(t *testing.T) {
	requireSIPp(t)
	p := transferOffice(t)

	transferee := startPhone(t, p, bob, "uas_transferee.xml")
	target := startPhone(t, p, carol, "uas_ring_answer.xml")
	caller := startCaller(t, p, alice, "uac_auth_refer.xml", "-key", "target", carol.number)
	caller.wait(1)
	p.waitLog(10*time.Second, `msg=transferred`, `by=1001@acme.example`, `to=1003@acme.example`)
	p.stop()
	transferee.wait(1)
	target.wait(1)
}

var carol = user{number: "1003", domain: domain, password: "long-secret-1003"}

// transferOffice runs deskpbx with alice, bob and carol.
func transferOffice(t *testing.T) *pbx {
	t.Helper()
	p := newPBX(t, domain)
	for _, u := range []user{alice, bob, carol} {
		p.addExt(domain, u.number, u.password)
	}
	p.start()
	return p
}

// The same from the callee's side: bob answers alice and sends her on to
// carol with a REFER in his own (server) dialog.
func TestSIPpBlindTransferByTheCallee(t *testing.T) {
	requireSIPp(t)
	p := transferOffice(t)

	transferor := startPhone(t, p, bob, "uas_refer.xml", "-key", "target", carol.number)
	target := startPhone(t, p, carol, "uas_ring_answer.xml")
	caller := startCaller(t, p, alice, "uac_auth_transferee.xml")
	transferor.wait(1)
	p.waitLog(10*time.Second, `msg=transferred`, `by=1002@acme.example`, `to=1003@acme.example`)
	p.stop()
	caller.wait(1)
	target.wait(1)
}
