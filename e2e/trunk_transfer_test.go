package e2e

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/testphone"
)

// A receptionist blind-transfers a colleague's call to a mobile number,
// against the binary with Kamailio as the provider and SIPp as the
// mobile: Grace (1002) takes Ada's call and sends REFER to +15557001.
// deskpbx calls it out through the registered trunk with Grace's outside
// caller ID, reports 100, 180 and 200 in sipfrag NOTIFYs and hangs Grace
// up; Ada is re-INVITEd to deskpbx's relay (never the provider's
// address), her RTP reaches the mobile's echo and comes back to her, and
// when she hangs up the mobile gets BYE.
func TestBlindTransferToAMobileThroughKamailio(t *testing.T) {
	requireSIPp(t)
	kamBin := requireKamailio(t)
	const password = "Trunk-Xfer-5"

	p := newPBX(t, "acme.example")
	p.addExt("acme.example", "1001", "secret-1001")
	p.addExt("acme.example", "1002", "secret-1002")
	kport, calleePort := freePortOn(t, providerIP), freePortOn(t, providerIP)
	p.cli("trunk", "add", "-db", p.db, "-host", providerIP+":"+strconv.Itoa(kport), "-username", "acme",
		"-password", password, "-register", "-from-domain", "provider.test", "acme.example", "main")
	p.cli("ext", "set", "-db", p.db, "-outside-cid", "+15550102", "acme.example", "1002")
	p.cli("tenant", "set", "-db", p.db, "-main-number", "+15550100", "-national-prefix", "+1", "acme.example")
	startKamailio(t, kamBin, kport, map[string]string{"PASSWORD": password, "EXPIRES": "60",
		"PBXIP": "127.0.0.1", "CALLEE": providerIP + ":" + strconv.Itoa(calleePort)})
	p.start()
	waitUntil(t, 60*time.Second, "the trunk registered", func() bool {
		return strings.Contains(p.cli("trunk", "list", "-db", p.db), " registered")
	})

	ada := testphone.New(t, p.sipAddr, "1001", "acme.example", "secret-1001")
	grace := testphone.New(t, p.sipAddr, "1002", "acme.example", "secret-1002")
	adaM, graceM := testphone.NewMedia(t), testphone.NewMedia(t)
	ada.UseMedia(adaM)
	grace.UseMedia(graceM)
	ada.Register()
	grace.Register()
	mobile, echo := startOutsideCallee(t, calleePort, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := ada.DialFeature(ctx, "1002", adaM)
	if err != nil {
		t.Fatalf("Ada calls Grace: %v", err)
	}
	in := testphone.Await(t, grace.Incoming, "Ada's call at Grace")
	testphone.Await(t, grace.Acks, "ACK at Grace")

	res, err := testphone.Refer(ctx, in.Dialog, "<sip:+15557001@acme.example>")
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("Grace transfers Ada to the mobile: %v %v, want 202", res, err)
	}
	var frags []string
	for final := false; !final; {
		var status string
		status, final = testphone.Sipfrag(testphone.Await(t, grace.Notifies, "sipfrag NOTIFY at Grace"))
		frags = append(frags, status)
	}
	if strings.Join(frags, ", ") != "SIP/2.0 100 Trying, SIP/2.0 180 Ringing, SIP/2.0 200 OK" {
		t.Fatalf("Grace was told %q, want 100, 180, 200", frags)
	}
	reinvite := testphone.Await(t, ada.Reinvites, "re-INVITE at Ada")
	if body := string(reinvite.Body()); strings.Contains(body, providerIP) || !strings.Contains(body, "c=IN IP4 127.0.0.1") {
		t.Fatalf("Ada was re-INVITEd with\n%s\nwant deskpbx's relay, not the provider's media", body)
	}
	testphone.Await(t, grace.Byes, "BYE at Grace, the transferor")

	adaM.Answered(t, reinvite.Body())
	echoedBack(t, adaM, echo)
	p.waitLog(10*time.Second, `msg=transferred`, `by=1002@acme.example`, `to=+15557001@`)

	if err := call.Bye(ctx); err != nil {
		t.Fatalf("Ada hangs up: %v", err)
	}
	mobile.wait(1) // the mobile's scenario ends with the BYE it got
	msgs, err := os.ReadFile(mobile.files["msg"])
	if err != nil {
		t.Fatal(err)
	}
	inv := receivedInvite(string(msgs), "+15557001")
	for _, h := range []string{"From:", "P-Asserted-Identity:"} {
		if line := headerLine(inv, h); !strings.Contains(line, "sip:+15550102@provider.test") {
			t.Errorf("the mobile's INVITE has %s %q, want Grace's outside caller ID +15550102", h, line)
		}
	}
}
