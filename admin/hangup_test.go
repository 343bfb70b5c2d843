package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// dialWithCallID places a call from p to number with a Call-ID of the
// caller's choosing, as any SIP phone may.
func dialWithCallID(ctx context.Context, p *testphone.Phone, number, callID string) (*sipgo.DialogClientSession, error) {
	req := sip.NewRequest(sip.INVITE, p.URI(number))
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.User, Host: p.Domain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: number, Host: p.Domain}})
	cid := sip.CallIDHeader(callID)
	req.AppendHeader(&cid)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(testphone.SDP(4000, "sendrecv"))
	d, err := p.DUA.WriteInvite(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{Username: p.User, Password: p.Password}); err != nil {
		return d, err
	}
	return d, d.Ack(ctx)
}

func TestAHangUpEndsTheCallShownNotAnotherWithTheSameCallID(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	carolExt, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "beta.example", Number: "2002", Password: "Carol-Secret-77", Name: "Carol"})
	if err != nil {
		t.Fatal(err)
	}
	ada, grace := o.phone(o.ada, "Ada-Secret-77"), o.phone(o.grace, "Grace-Secret-77")
	bob, carol := o.phone(o.bob, "Bob-Secret-77"), o.phone(carolExt, "Carol-Secret-77")
	for _, p := range []*testphone.Phone{ada, grace, bob, carol} {
		p.Register()
	}
	acmeCall, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("1001 calling 1002: %v", err)
	}
	// A phone of beta copies the Call-ID of acme's call.
	callID := acmeCall.InviteRequest.CallID().Value()
	if _, err := dialWithCallID(ctx, bob, "2002", callID); err != nil {
		t.Fatalf("2001 calling 2002: %v", err)
	}
	waitUntil(t, "two calls", func() bool { return len(o.pbx.ActiveCalls()) == 2 })
	for _, c := range o.pbx.ActiveCalls() {
		if c.CallID != callID || c.ID == callID || c.ID == "" {
			t.Fatalf("call %+v: want the shared Call-ID and an opaque ID", c)
		}
	}

	// beta's admin hangs up the call its page shows: beta's.
	betaBoss := o.login("beta-boss")
	page := betaBoss.get("/calls").body
	m := regexp.MustCompile(`name="id" value="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(m) != 1 {
		t.Fatalf("beta's calls page lists %d calls", len(m))
	}
	// The Call-ID itself names no call any more.
	if res := betaBoss.post("/calls/hangup", url.Values{"id": {callID}}); res.status != http.StatusSeeOther || len(o.pbx.ActiveCalls()) != 2 {
		t.Fatalf("hang-up by Call-ID: %d, %d calls left", res.status, len(o.pbx.ActiveCalls()))
	}
	token := betaBoss.apiToken("t")
	if code := o.api(token, "DELETE", "/calls/"+url.PathEscape(callID), nil, nil); code != http.StatusNotFound {
		t.Errorf("API hang-up by Call-ID: %d, want 404", code)
	}
	if res := betaBoss.post("/calls/hangup", url.Values{"id": {m[0][1]}}); res.status != http.StatusSeeOther {
		t.Fatalf("hang-up: %d", res.status)
	}
	left := o.pbx.ActiveCalls()
	if len(left) != 1 || left[0].Caller != "1001@acme.example" {
		t.Fatalf("calls left: %+v, want acme's only", left)
	}
	// (2001 answers the BYE 481: its test phone tracks only calls it
	// placed itself, so 2002's BYE is the one to wait for.)
	waitUntil(t, "2002 to get BYE", func() bool { return len(carol.Byes) > 0 })
	if len(ada.Byes) != 0 || len(grace.Byes) != 0 {
		t.Fatal("acme's call got a BYE")
	}
}
