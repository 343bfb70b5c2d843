package admin

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// sseEvent is one Server-Sent Event as a browser would assemble it.
type sseEvent struct{ name, data string }

// openEvents opens the live stream as b and returns its events.
func (b *browser) openEvents(ctx context.Context, topics string) <-chan sseEvent {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.o.http.URL+"/events?topics="+topics, nil)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b.t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ev.data = strings.Join(data, "\n")
					ch <- ev
				}
				ev, data = sseEvent{}, nil
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return ch
}

func waitEvent(t *testing.T, ch <-chan sseEvent, name, contains string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before a %s event with %q", name, contains)
			}
			if ev.name == name && strings.Contains(ev.data, contains) {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %s event with %q", name, contains)
		}
	}
}

func TestRegistrationsShowLiveAndOnlyToTheirTenant(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	boss := o.login("acme-boss")
	root := o.login("root")
	bossEvents := boss.openEvents(ctx, "registrations,counts")
	rootEvents := root.openEvents(ctx, "registrations")
	waitEvent(t, bossEvents, "registrations", "No phone is registered")

	o.phone(o.ada, "Ada-Secret-77").Register()
	o.phone(o.bob, "Bob-Secret-77").Register()

	ev := waitEvent(t, bossEvents, "registrations", "1001@acme.example")
	if strings.Contains(ev.data, "2001@beta.example") {
		t.Error("acme's admin was streamed beta's registration")
	}
	waitEvent(t, bossEvents, "counts", "<strong>1</strong> registrations")
	waitEvent(t, rootEvents, "registrations", "2001@beta.example")

	page := boss.get("/registrations").body
	for _, want := range []string{"1001@acme.example", "testphone-1001", "UDP", "127.0.0.1:"} {
		if !strings.Contains(page, want) {
			t.Errorf("registrations page lacks %q", want)
		}
	}
	if strings.Contains(page, "2001@beta.example") {
		t.Error("acme's admin sees beta's registration")
	}
	var regs []apiRegistration
	o.api(root.apiToken("t"), "GET", "/registrations", nil, &regs)
	if len(regs) != 2 || regs[0].ExpiresIn < 500 {
		t.Errorf("API registrations: %+v", regs)
	}
	// An unrelated stream ends when its session does.
	boss.post("/logout", nil)
	o.now.Advance(time.Minute)
	waitEventName(t, bossEvents, "logout", 45*time.Second)
}

func waitEventName(t *testing.T, ch <-chan sseEvent, name string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended without a %s event", name)
			}
			if ev.name == name {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event", name)
		}
	}
}

func TestAnAdminHangsUpACallOfItsTenant(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ada := o.phone(o.ada, "Ada-Secret-77")
	grace := o.phone(o.grace, "Grace-Secret-77")
	ada.Register()
	grace.Register()
	boss := o.login("acme-boss")
	betaBoss := o.login("beta-boss")
	events := boss.openEvents(ctx, "calls")
	waitEvent(t, events, "calls", "No call in progress")

	dctx, dcancel := context.WithTimeout(ctx, 10*time.Second)
	defer dcancel()
	if _, err := ada.Dial(dctx, "1002"); err != nil {
		t.Fatalf("1001 calling 1002: %v", err)
	}
	ev := waitEvent(t, events, "calls", "1002@acme.example")
	if !strings.Contains(ev.data, "1001@acme.example") || !strings.Contains(ev.data, "talking") {
		t.Errorf("live call row: %s", ev.data)
	}
	calls := o.pbx.ActiveCalls()
	if len(calls) != 1 {
		t.Fatalf("%d active calls", len(calls))
	}
	// Another tenant's admin can neither see nor end it.
	if strings.Contains(betaBoss.get("/calls").body, "1001@acme.example") {
		t.Error("beta's admin sees acme's call")
	}
	betaBoss.post("/calls/hangup", url.Values{"id": {calls[0].ID}})
	betaToken := betaBoss.apiToken("t")
	if code := o.api(betaToken, "DELETE", "/calls/"+url.PathEscape(calls[0].ID), nil, nil); code != http.StatusNotFound {
		t.Errorf("beta's admin hanging up through the API: %d", code)
	}
	if len(o.pbx.ActiveCalls()) != 1 {
		t.Fatal("another tenant's admin ended the call")
	}
	if !strings.Contains(boss.get("/calls").body, "Hang up") {
		t.Error("calls page has no hang-up button")
	}
	res := boss.post("/calls/hangup", url.Values{"id": {calls[0].ID}, "next": {"/calls"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("hang up: %d", res.status)
	}
	waitUntil(t, "both phones to get BYE", func() bool { return len(ada.Byes) > 0 && len(grace.Byes) > 0 })
	waitEvent(t, events, "calls", "No call in progress")
}

// A receptionist's transfer shows on the calls list: Ada sends her call
// with Grace on to 1003, and the page and the API say who handed it to
// whom.
func TestTheCallsListShowsATransfer(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	carolExt, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1003", Password: "Carol-Secret-77", Name: "Carol"})
	if err != nil {
		t.Fatal(err)
	}
	ada := o.phone(o.ada, "Ada-Secret-77")
	grace := o.phone(o.grace, "Grace-Secret-77")
	carol := o.phone(carolExt, "Carol-Secret-77")
	for _, p := range []*testphone.Phone{ada, grace, carol} {
		p.Register()
	}
	adaCall, err := ada.Dial(ctx, "1002")
	if err != nil {
		t.Fatalf("1001 calling 1002: %v", err)
	}
	if res, err := testphone.Refer(ctx, adaCall, "<sip:1003@acme.example>"); err != nil || res.StatusCode != 202 {
		t.Fatalf("REFER: %v %v, want 202", res, err)
	}
	waitUntil(t, "the transfer in the calls list", func() bool {
		calls := o.pbx.ActiveCalls()
		return len(calls) == 1 && calls[0].TransferredTo != ""
	})
	boss := o.login("acme-boss")
	if body := boss.get("/calls").body; !strings.Contains(body, "transferred by 1001@acme.example to 1003@acme.example") {
		t.Errorf("calls page does not show the transfer:\n%s", body)
	}
	var list []struct {
		TransferredBy string `json:"transferred_by"`
		TransferredTo string `json:"transferred_to"`
	}
	if code := o.api(boss.apiToken("t"), "GET", "/calls", nil, &list); code != http.StatusOK || len(list) != 1 ||
		list[0].TransferredBy != "1001@acme.example" || list[0].TransferredTo != "1003@acme.example" {
		t.Errorf("API calls list: %d %+v", code, list)
	}
}
