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
	carol := user{number: "1003", domain: domain, password: "long-secret-1003"}
	p := newPBX(t, domain)
	for _, u := range []user{alice, bob, carol} {
		p.addExt(domain, u.number, u.password)
	}
	p.start()

	transferee := startPhone(t, p, bob, "uas_transferee.xml")
	target := startPhone(t, p, carol, "uas_ring_answer.xml")
	caller := startCaller(t, p, alice, "uac_auth_refer.xml", "-key", "target", carol.number)
	caller.wait(1)
	p.waitLog(10*time.Second, `msg=transferred`, `by=1001@acme.example`, `to=1003@acme.example`)
	p.stop()
	transferee.wait(1)
	target.wait(1)
}
