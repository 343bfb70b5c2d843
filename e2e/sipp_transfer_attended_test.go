package e2e

import (
	"context"
	"testing"
	"time"

	"deskpbx/internal/testphone"
)

// Attended transfer (REFER with Replaces, RFC 3891) against the binary,
// SIPp on both remaining sides: alice (SIPp) calls bob; bob consults
// carol (SIPp) on a second call, then sends REFER in alice's call with a
// Replaces naming the consultation. bob is a sipgo phone because one SIPp
// cannot hold two dialogs with their own Call-IDs. deskpbx answers 202,
// reports 100 and 200 in sipfrag NOTIFYs, hangs up both of bob's legs,
// re-INVITEs alice (asking for her offer) and carol (with alice's offer,
// which her SIPp checks); both are hung up when deskpbx stops.
func TestSIPpAttendedTransferWithReplaces(t *testing.T) {
	requireSIPp(t)
	p := transferOffice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	transferor := testphone.New(t, p.sipAddr, bob.number, domain, bob.password)
	transferor.Register()
	target := startPhone(t, p, carol, "uas_transferee.xml")
	transferee := startCaller(t, p, alice, "uac_auth_attended_transferee.xml")

	in := testphone.Await(t, transferor.Incoming, "INVITE from alice at bob")
	testphone.Await(t, transferor.Acks, "ACK from alice at bob")
	consult, err := transferor.Dial(ctx, carol.number)
	if err != nil {
		t.Fatalf("bob consults carol: %v", err)
	}

	res, err := testphone.Refer(ctx, in.Dialog, testphone.ReplacesOf(carol.number, domain, consult))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER with Replaces: %v %v, want 202", res, err)
	}
	var frags []string
	for final := false; !final; {
		notify := testphone.Await(t, transferor.Notifies, "sipfrag NOTIFY at bob")
		if ev := notify.GetHeader("Event"); ev == nil || ev.Value() != "refer" {
			t.Fatalf("NOTIFY with Event %v, want refer", ev)
		}
		if ct := notify.ContentType(); ct == nil || ct.Value() != "message/sipfrag;version=2.0" {
			t.Fatalf("NOTIFY with Content-Type %v, want message/sipfrag;version=2.0", ct)
		}
		var status string
		status, final = testphone.Sipfrag(notify)
		frags = append(frags, status)
	}
	if len(frags) < 2 || frags[0] != "SIP/2.0 100 Trying" || frags[len(frags)-1] != "SIP/2.0 200 OK" {
		t.Fatalf("sipfrags %q, want 100 Trying first and 200 OK last", frags)
	}
	byes := map[string]bool{}
	for range 2 {
		bye := testphone.Await(t, transferor.Byes, "BYE at bob")
		byes[bye.CallID().Value()] = true
	}
	for _, id := range []string{in.Dialog.InviteRequest.CallID().Value(), consult.InviteRequest.CallID().Value()} {
		if !byes[id] {
			t.Errorf("bob's call %s was not hung up (BYEs for %v)", id, byes)
		}
	}
	p.waitLog(10*time.Second, `msg=transferred`, `by=1002@acme.example`, `to=1003@acme.example`)
	p.stop()
	transferee.wait(1)
	target.wait(1)
}

// The bad REFERs of issue 11 from SIPp, each checked by the scenario's
// <recv response>: in a call, no Refer-To gets 400 and another tenant's
// number 403, and the call goes on (its BYE gets 200); outside a dialog,
// 481 with or without a To tag.
func TestSIPpBadRefers(t *testing.T) {
	requireSIPp(t)
	p := newPBX(t, domain)
	for _, u := range []user{alice, bob} {
		p.addExt(domain, u.number, u.password)
	}
	p.cli("tenant", "add", "-db", p.db, "beta.example")
	p.addExt("beta.example", "2001", "long-secret-2001")
	p.start()

	callee := startCallee(t, p, bob)
	caller := startCaller(t, p, alice, "uac_auth_bad_refers.xml", "-key", "target", "sip:2001@beta.example")
	caller.wait(1)
	callee.wait(1)
	p.waitLog(10*time.Second, `msg="transfer refused: another tenant's number"`, `target=sip:2001@beta.example`)

	outside := startCaller(t, p, alice, "refer_outside_dialog.xml")
	outside.wait(1)
	p.stop()
}
