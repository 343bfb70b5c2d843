package lamps_test

import (
	"context"
	"testing"

	"deskpbx/internal/testphone"
	"deskpbx/store"

	"github.com/emiago/sipgo/sip"
)

func summary(t *testing.T, n *sip.Request) string {
	t.Helper()
	if ct := n.ContentType(); ct == nil || ct.Value() != "application/simple-message-summary" {
		t.Fatalf("message-summary NOTIFY Content-Type %v", ct)
	}
	if ev := n.GetHeader("Event"); ev == nil || ev.Value() != "message-summary" {
		t.Fatalf("NOTIFY Event %v, want message-summary", ev)
	}
	return string(n.Body())
}

const (
	deskOwnEmpty = "Messages-Waiting: no\r\nMessage-Account: sip:1003@acme.example\r\nVoice-Message: 0/0 (0/0)\r\n"
	adaTwoNew    = "Messages-Waiting: yes\r\nMessage-Account: sip:1001@acme.example\r\nVoice-Message: 2/1 (0/0)\r\n"
	adaThreeNew  = "Messages-Waiting: yes\r\nMessage-Account: sip:1001@acme.example\r\nVoice-Message: 3/1 (0/0)\r\n"
)

func TestMessageLightFollowsThePersonToTheSeatAndBack(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	desk := o.phone("1003")
	desk.Register()
	// The light sent because the desk registered runs on a goroutine of
	// its own: once it is here, it cannot land in the subscription below.
	testphone.Await(t, desk.Unsolicited(), "the desk's light at registration")
	o.boxes.set("1001@acme.example", 2, 1)
	light, res := desk.Subscribe("1003", "message-summary", 600)
	if res.StatusCode != 200 {
		t.Fatalf("desk phone subscribes to its own mailbox: %d", res.StatusCode)
	}
	if got := summary(t, light.Next()); got != deskOwnEmpty {
		t.Fatalf("desk's own light:\n%q\nwant\n%q", got, deskOwnEmpty)
	}

	// Ada logs in at the desk: the desk's light switches to her mailbox.
	o.sitAt("1003")
	o.lights.SeatChanged(ctx, o.ext("1003"))
	if got := summary(t, light.Next()); got != adaTwoNew {
		t.Fatalf("after Ada's login:\n%q\nwant\n%q", got, adaTwoNew)
	}
	// A message for Ada lights the seat she sits at.
	o.boxes.set("1001@acme.example", 3, 1)
	o.lights.MailboxChanged(ctx, o.ext("1001"))
	if got := summary(t, light.Next()); got != adaThreeNew {
		t.Fatalf("after a message for Ada:\n%q\nwant\n%q", got, adaThreeNew)
	}
	// While she sits there the desk may subscribe to her mailbox too.
	if _, res := desk.Subscribe("1001", "message-summary", 600); res.StatusCode != 200 {
		t.Fatalf("seat subscribes to its hot-desker's mailbox: %d, want 200", res.StatusCode)
	}

	// Logout: back to the desk's own mailbox.
	if _, err := o.hd.Logout(ctx, "5551234", "4826", o.ext("1003"), "127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	o.lights.SeatChanged(ctx, o.ext("1003"))
	if got := summary(t, light.Next()); got != deskOwnEmpty {
		t.Fatalf("after logout:\n%q\nwant\n%q", got, deskOwnEmpty)
	}
}

func TestMessageLightOfAnotherMailboxIsRefused(t *testing.T) {
	o := newOffice(t)
	desk := o.phone("1003")
	_, missing := desk.Subscribe("1999", "message-summary", 600)
	for _, target := range []string{"1002", "1001", "2001@globex.example"} {
		if _, res := desk.Subscribe(target, "message-summary", 600); res.StatusCode != 403 || res.Reason != missing.Reason {
			t.Fatalf("desk subscribes to mailbox %s: %d %s, want the 403 %s a missing one gets", target, res.StatusCode, res.Reason, missing.Reason)
		}
	}
}

// graceAndASubscribedDesk is an office where Grace's phone (1002) is
// registered and never subscribes, and the desk phone (1003) subscribes
// to its own light, past the first NOTIFY.
func graceAndASubscribedDesk(t *testing.T) (o *office, grace, desk *testphone.Phone, light *testphone.Subscription) {
	t.Helper()
	o = newOffice(t)
	grace, desk = o.phone("1002"), o.phone("1003")
	grace.Register()
	desk.Register()
	// Each phone is told its light when it registers (not subscribed yet).
	testphone.Await(t, grace.Unsolicited(), "1002's light at registration")
	testphone.Await(t, desk.Unsolicited(), "1003's light at registration")
	light, _ = desk.Subscribe("1003", "message-summary", 600)
	light.Next()
	return o, grace, desk, light
}

func TestPhonesThatDoNotSubscribeGetTheLightUnsolicited(t *testing.T) {
	o, grace, desk, light := graceAndASubscribedDesk(t)
	ctx := context.Background()

	o.boxes.set("1002@acme.example", 1, 0)
	o.lights.MailboxChanged(ctx, o.ext("1002"))
	n := testphone.Await(t, grace.Unsolicited(), "unsolicited message-summary at 1002")
	want := "Messages-Waiting: yes\r\nMessage-Account: sip:1002@acme.example\r\nVoice-Message: 1/0 (0/0)\r\n"
	if got := summary(t, n); got != want {
		t.Fatalf("unsolicited NOTIFY:\n%q\nwant\n%q", got, want)
	}

	// The desk subscribed: it gets its NOTIFY in the subscription only.
	o.lights.MailboxChanged(ctx, o.ext("1003"))
	if got := summary(t, light.Next()); got != deskOwnEmpty {
		t.Fatalf("desk's subscription got %q", got)
	}
	select {
	case n := <-desk.Unsolicited():
		t.Fatalf("a subscribed phone also got an unsolicited NOTIFY: %s", n.Body())
	default:
	}
}

// setUnsolicited turns acme.example's unsolicited message-summary
// NOTIFYs on or off, as an admin would.
func (o *office) setUnsolicited(on bool) {
	o.t.Helper()
	if _, err := o.db.UpdateTenant(context.Background(), "acme.example", store.TenantUpdate{MWIUnsolicited: &on}, "test"); err != nil {
		o.t.Fatal(err)
	}
}

// A tenant whose phones show unsolicited NOTIFYs wrongly turns them off:
// Grace's phone, which never subscribes, is told nothing of her new
// message, while the desk phone, which subscribes, still sees its light
// change. Turned on again, the next thing Grace's phone hears is her
// mailbox as it is then: nothing was sent while it was off.
func TestUnsolicitedLightsFollowTheTenantSwitch(t *testing.T) {
	o, grace, _, light := graceAndASubscribedDesk(t)
	ctx := context.Background()
	o.setUnsolicited(false)

	o.boxes.set("1002@acme.example", 1, 0)
	o.lights.MailboxChanged(ctx, o.ext("1002"))
	o.boxes.set("1003@acme.example", 1, 0)
	o.lights.MailboxChanged(ctx, o.ext("1003"))
	deskOneNew := "Messages-Waiting: yes\r\nMessage-Account: sip:1003@acme.example\r\nVoice-Message: 1/0 (0/0)\r\n"
	if got := summary(t, light.Next()); got != deskOneNew {
		t.Fatalf("with unsolicited NOTIFYs off, the subscribed desk got %q, want %q", got, deskOneNew)
	}

	o.setUnsolicited(true)
	o.boxes.set("1002@acme.example", 2, 0)
	o.lights.MailboxChanged(ctx, o.ext("1002"))
	n := testphone.Await(t, grace.Unsolicited(), "unsolicited message-summary at 1002")
	want := "Messages-Waiting: yes\r\nMessage-Account: sip:1002@acme.example\r\nVoice-Message: 2/0 (0/0)\r\n"
	if got := summary(t, n); got != want {
		t.Fatalf("the first unsolicited NOTIFY at 1002 is\n%q\nwant the one sent once switched on\n%q", got, want)
	}
}

// New tenants send unsolicited NOTIFYs: the default.
func TestUnsolicitedLightsAreOnForANewTenant(t *testing.T) {
	o := newOffice(t)
	for _, d := range []string{"acme.example", "globex.example"} {
		tn, err := o.db.TenantByDomain(context.Background(), d)
		if err != nil || !tn.MWIUnsolicited {
			t.Errorf("%s: unsolicited MWI %v (%v), want on", d, tn != nil && tn.MWIUnsolicited, err)
		}
	}
}

// A phone that does not subscribe (no mwi module, a basic desk phone)
// learns its light when it registers after a power cut, not only at the
// mailbox's next change; a refresh of the same contact sends nothing.
func TestAPhoneThatRegistersGetsItsLightAtOnce(t *testing.T) {
	o := newOffice(t)
	o.boxes.set("1002@acme.example", 3, 1)
	grace := o.phone("1002")
	grace.Register()
	n := testphone.Await(t, grace.Unsolicited(), "unsolicited message-summary after REGISTER")
	want := "Messages-Waiting: yes\r\nMessage-Account: sip:1002@acme.example\r\nVoice-Message: 3/1 (0/0)\r\n"
	if got := summary(t, n); got != want {
		t.Fatalf("after registering, the phone got\n%q\nwant\n%q", got, want)
	}

	// A refresh (the same contact again) is no boot: the next NOTIFY the
	// phone gets must be the one of the mailbox's next change.
	grace.Register()
	o.boxes.set("1002@acme.example", 4, 1)
	o.lights.MailboxChanged(context.Background(), o.ext("1002"))
	n = testphone.Await(t, grace.Unsolicited(), "unsolicited message-summary after the mailbox changed")
	want = "Messages-Waiting: yes\r\nMessage-Account: sip:1002@acme.example\r\nVoice-Message: 4/1 (0/0)\r\n"
	if got := summary(t, n); got != want {
		t.Fatalf("after a refresh and a new message, the phone got\n%q\nwant the new message's\n%q", got, want)
	}
}
