package pbx

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// numberWatch is an event package for the mechanism's tests: any
// extension of the subscriber's tenant may be watched, and its body says
// which one and the subscription's version.
type numberWatch struct{ db *store.DB }

func (w numberWatch) Authorize(ctx context.Context, subscriber *store.Extension, target string) (string, bool) {
	e, err := w.db.ExtensionByNumber(ctx, subscriber.TenantID, target)
	if err != nil {
		return "", false
	}
	return strconv.FormatInt(e.ID, 10), true
}

func (w numberWatch) Body(_ context.Context, resource string, version uint32) (string, []byte) {
	return "text/plain", []byte(fmt.Sprintf("%s v%d", resource, version))
}

const watchEvent = "x-number-watch"

func watchOffice(t *testing.T, tweak ...func(*Config)) *office {
	t.Helper()
	o := newOffice(t, tweak...)
	o.srv.HandleEvent(watchEvent, numberWatch{db: o.db})
	return o
}

func header(m interface{ GetHeader(string) sip.Header }, name string) string {
	if h := m.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}

func (o *office) extID(number string) string {
	e, err := o.db.LookupExtension(context.Background(), "acme.example", number)
	if err != nil {
		o.t.Fatal(err)
	}
	return strconv.FormatInt(e.ID, 10)
}

func TestSubscriptionNotifiesRefreshesAndEndsOnUnsubscribe(t *testing.T) {
	o := watchOffice(t)
	ada := o.phone("1001")
	sub, res := ada.Subscribe("1002", watchEvent, 600)
	if res.StatusCode != 200 || header(res, "Expires") != "600" {
		t.Fatalf("SUBSCRIBE: %d Expires %q, want 200 with Expires 600", res.StatusCode, header(res, "Expires"))
	}
	if tag, _ := res.To().Params.Get("tag"); tag == "" {
		t.Fatal("200 to SUBSCRIBE has no To tag: no dialog for the refresh")
	}
	grace := o.extID("1002")
	first := sub.Next()
	if state := testphone.State(first); !strings.HasPrefix(state, "active;expires=") {
		t.Fatalf("first NOTIFY state %q, want active with expires", state)
	}
	if got := string(first.Body()); got != grace+" v0" {
		t.Fatalf("first NOTIFY body %q, want the resource's state at version 0", got)
	}

	o.srv.Notify(watchEvent, grace)
	change := sub.Next()
	if string(change.Body()) != grace+" v1" || change.CSeq().SeqNo <= first.CSeq().SeqNo {
		t.Fatalf("change NOTIFY body %q CSeq %d after %d, want v1 with a higher CSeq", change.Body(), change.CSeq().SeqNo, first.CSeq().SeqNo)
	}
	if header(change, "Event") != watchEvent {
		t.Fatalf("NOTIFY Event %q, want %q", header(change, "Event"), watchEvent)
	}

	if res := sub.Refresh(120); res.StatusCode != 200 || header(res, "Expires") != "120" {
		t.Fatalf("refresh: %d Expires %q, want 200 with 120", res.StatusCode, header(res, "Expires"))
	}
	if state := testphone.State(sub.Next()); state != "active;expires=120" && state != "active;expires=119" {
		t.Fatalf("NOTIFY after refresh says %q, want the new expiry", state)
	}

	if res := sub.Refresh(0); res.StatusCode != 200 {
		t.Fatalf("un-subscribe: %d, want 200", res.StatusCode)
	}
	if state := testphone.State(sub.Next()); state != "terminated" {
		t.Fatalf("final NOTIFY state %q, want terminated", state)
	}
	if n := o.srv.Subscriptions(); n != 0 {
		t.Fatalf("%d subscriptions left after un-subscribe", n)
	}
	if res := sub.Refresh(600); res.StatusCode != 481 {
		t.Fatalf("refresh of an ended subscription: %d, want 481", res.StatusCode)
	}
	o.srv.Notify(watchEvent, grace)
	if res := ada.Send(sip.NewRequest(sip.OPTIONS, ada.URI(""))); res.StatusCode != 200 {
		t.Fatal("PBX stopped answering")
	}
	select {
	case n := <-sub.Notifies:
		t.Fatalf("NOTIFY after the subscription ended: %s", n.Body())
	default:
	}
}

func TestSubscribeToAnEventNobodyServesGets489(t *testing.T) {
	o := watchOffice(t)
	_, res := o.phone("1001").Subscribe("1002", "presence.winfo", 600)
	if res.StatusCode != 489 || header(res, "Allow-Events") != watchEvent {
		t.Fatalf("unknown event: %d Allow-Events %q, want 489 listing %q", res.StatusCode, header(res, "Allow-Events"), watchEvent)
	}
}

func TestSubscriptionExpiresAreBounded(t *testing.T) {
	o := watchOffice(t)
	ada := o.phone("1001")
	_, res := ada.Subscribe("1002", watchEvent, 10)
	if res.StatusCode != 423 || header(res, "Min-Expires") != "60" {
		t.Fatalf("Expires 10: %d Min-Expires %q, want 423 with 60", res.StatusCode, header(res, "Min-Expires"))
	}
	_, res = ada.Subscribe("1002", watchEvent, 1_000_000)
	if res.StatusCode != 200 || header(res, "Expires") != "7200" {
		t.Fatalf("Expires 1000000: %d Expires %q, want 200 clamped to 7200", res.StatusCode, header(res, "Expires"))
	}
	sub, res := ada.Subscribe("1002", watchEvent, -1)
	if res.StatusCode != 200 || header(res, "Expires") != "3600" {
		t.Fatalf("no Expires: %d Expires %q, want the default 3600", res.StatusCode, header(res, "Expires"))
	}
	sub.Next()
}

func TestUnrefreshedSubscriptionEndsWithTimeout(t *testing.T) {
	o := watchOffice(t, func(c *Config) { c.MinExpires = time.Second })
	sub, res := o.phone("1001").Subscribe("1002", watchEvent, 1)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", res.StatusCode)
	}
	sub.Next()
	if state := testphone.State(sub.Next()); state != "terminated;reason=timeout" {
		t.Fatalf("NOTIFY at expiry says %q, want terminated;reason=timeout", state)
	}
	if n := o.srv.Subscriptions(); n != 0 {
		t.Fatalf("%d subscriptions left after expiry", n)
	}
}

func TestFetchGetsOneNotifyAndKeepsNoSubscription(t *testing.T) {
	o := watchOffice(t)
	sub, res := o.phone("1001").Subscribe("1002", watchEvent, 0)
	if res.StatusCode != 200 {
		t.Fatalf("fetch: %d", res.StatusCode)
	}
	n := sub.Next()
	if testphone.State(n) != "terminated;reason=timeout" || string(n.Body()) != o.extID("1002")+" v0" {
		t.Fatalf("fetch NOTIFY %q %q, want the state, terminated", testphone.State(n), n.Body())
	}
	if c := o.srv.Subscriptions(); c != 0 {
		t.Fatalf("a fetch left %d subscriptions", c)
	}
}

func TestSubscriptionToAnotherTenantIsRefusedLikeAMissingOne(t *testing.T) {
	o := watchOffice(t)
	ctx := context.Background()
	if _, err := o.db.CreateTenant(ctx, "globex.example", "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "globex.example", Number: "2001", Password: "pw-2001-x"}); err != nil {
		t.Fatal(err)
	}
	ada := o.phone("1001")
	_, other := ada.Subscribe("2001@globex.example", watchEvent, 600)
	_, otherByNumber := ada.Subscribe("2001", watchEvent, 600)
	_, missing := ada.Subscribe("1999", watchEvent, 600)
	for what, res := range map[string]*sip.Response{"another tenant's extension": other, "its number in our tenant": otherByNumber, "a missing extension": missing} {
		if res.StatusCode != 403 || res.Reason != missing.Reason {
			t.Fatalf("%s: %d %s, want 403 %s like a missing one", what, res.StatusCode, res.Reason, missing.Reason)
		}
	}
}

func TestSubscriptionsAreBoundedPerPhone(t *testing.T) {
	o := watchOffice(t)
	o.srv.SetSubscriptionLimits(3, 0)
	ada, grace := o.phone("1001"), o.phone("1002")
	for i := 0; i < 3; i++ {
		if _, res := ada.Subscribe("1003", watchEvent, 600); res.StatusCode != 200 {
			t.Fatalf("subscription %d: %d", i+1, res.StatusCode)
		}
	}
	if _, res := ada.Subscribe("1003", watchEvent, 600); res.StatusCode != 403 {
		t.Fatalf("fourth subscription of one phone: %d, want 403", res.StatusCode)
	}
	if _, res := grace.Subscribe("1003", watchEvent, 600); res.StatusCode != 200 {
		t.Fatalf("another phone's first subscription: %d, want 200", res.StatusCode)
	}
}

func TestNotifyRefusedWith481EndsTheSubscription(t *testing.T) {
	o := watchOffice(t)
	ada := o.phone("1001")
	sub, _ := ada.Subscribe("1002", watchEvent, 600)
	sub.Next()
	ada.RefuseNotifies(481)
	o.srv.Notify(watchEvent, o.extID("1002"))
	for i := 0; o.srv.Subscriptions() != 0; i++ {
		if i > 500 {
			t.Fatal("subscription still held after its NOTIFY got 481")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ada.RefuseNotifies(0)
	if res := sub.Refresh(600); res.StatusCode != 481 {
		t.Fatalf("refresh after the NOTIFY failed: %d, want 481", res.StatusCode)
	}
}

func TestUnsolicitedNotifyReachesOnlyPhonesWithoutASubscription(t *testing.T) {
	o, ada, grace := adaAndGrace(t)
	o.srv.HandleEvent(watchEvent, numberWatch{db: o.db})
	sub, _ := grace.Subscribe("1002", watchEvent, 600)
	sub.Next()
	ctx := callCtx(t)
	for _, who := range []*testphone.Phone{ada, grace} {
		ext, _ := o.db.LookupExtension(ctx, "acme.example", who.User)
		n, err := o.srv.NotifyUnsolicited(ctx, ext, watchEvent, "text/plain", []byte("hello "+who.User))
		want := 1
		if who == grace {
			want = 0
		}
		if err != nil || n != want {
			t.Fatalf("unsolicited NOTIFY to %s: %d accepted, err %v; want %d", who.User, n, err, want)
		}
	}
	got := waitFor(t, ada.Unsolicited(), "unsolicited NOTIFY at 1001")
	if string(got.Body()) != "hello 1001" || header(got, "Event") != watchEvent {
		t.Fatalf("unsolicited NOTIFY %q Event %q", got.Body(), header(got, "Event"))
	}
}
