package lamps_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// dialogInfo is what a BLF key reads of an RFC 4235 NOTIFY.
type dialogInfo struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version int      `xml:"version,attr"`
	State   string   `xml:"state,attr"`
	Entity  string   `xml:"entity,attr"`
	Dialogs []struct {
		Direction string `xml:"direction,attr"`
		State     string `xml:"state"`
		Remote    struct {
			Identity struct {
				Display string `xml:"display,attr"`
				URI     string `xml:",chardata"`
			} `xml:"identity"`
		} `xml:"remote"`
	} `xml:"dialog"`
}

func parseDialogInfo(t *testing.T, n *sip.Request) dialogInfo {
	t.Helper()
	if ct := n.ContentType(); ct == nil || ct.Value() != "application/dialog-info+xml" {
		t.Fatalf("NOTIFY Content-Type %v, want application/dialog-info+xml", ct)
	}
	var d dialogInfo
	if err := xml.Unmarshal(n.Body(), &d); err != nil {
		t.Fatalf("dialog-info does not parse: %v\n%s", err, n.Body())
	}
	return d
}

// lamp is what a BLF key shows: "idle", or the state of the person's
// dialog with its direction and the other party.
func lamp(d dialogInfo) string {
	if len(d.Dialogs) == 0 {
		return "idle"
	}
	x := d.Dialogs[0]
	return x.State + " " + x.Direction + " " + x.Remote.Identity.Display + " <" + x.Remote.Identity.URI + ">"
}

func TestBusyLampShowsRingingTalkingAndHangupOfBothParties(t *testing.T) {
	o := newOffice(t)
	ada, grace, reception := o.registered("1001"), o.registered("1002"), o.phone("1004")
	adaKey, res := reception.Subscribe("1001", "dialog", 600)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE dialog of 1001: %d", res.StatusCode)
	}
	graceKey, _ := reception.Subscribe("1002", "dialog", 600)
	first := parseDialogInfo(t, adaKey.Next())
	if lamp(first) != "idle" || first.Entity != "sip:1001@acme.example" || first.Version != 0 || first.State != "full" {
		t.Fatalf("first NOTIFY: %s entity %s version %d state %s, want idle full state of sip:1001@acme.example at version 0",
			lamp(first), first.Entity, first.Version, first.State)
	}
	graceKey.Next()

	want := map[string][2]string{
		"early":      {"early initiator Grace Hopper <sip:1002@acme.example>", "early recipient Ada Lovelace <sip:1001@acme.example>"},
		"confirmed":  {"confirmed initiator Grace Hopper <sip:1002@acme.example>", "confirmed recipient Ada Lovelace <sip:1001@acme.example>"},
		"terminated": {"terminated initiator Grace Hopper <sip:1002@acme.example>", "terminated recipient Ada Lovelace <sip:1001@acme.example>"},
	}
	version := first.Version
	converse(t, ada, grace, "1002", func(stage string) {
		a, g := parseDialogInfo(t, adaKey.Next()), parseDialogInfo(t, graceKey.Next())
		if lamp(a) != want[stage][0] || lamp(g) != want[stage][1] {
			t.Fatalf("%s: 1001's lamp %q and 1002's %q, want %q and %q", stage, lamp(a), lamp(g), want[stage][0], want[stage][1])
		}
		if a.Version != version+1 {
			t.Fatalf("%s: dialog-info version %d after %d, want one more", stage, a.Version, version)
		}
		version = a.Version
	})
}

func TestBusyLampIsThePersonsAtWhateverDeskTheySit(t *testing.T) {
	_, desk, grace, adaKey, deskKey := adaAtTheDesk(t)

	// Grace calls Ada, who is hot-desked at 1003: the desk phone rings,
	// Ada's lamp lights, the desk's own extension stays idle.
	converse(t, grace, desk, "1001", func(stage string) {
		got := lamp(parseDialogInfo(t, adaKey.Next()))
		if want := stage + " recipient Grace Hopper <sip:1002@acme.example>"; got != want {
			t.Fatalf("%s: Ada's lamp %q, want %q", stage, got, want)
		}
	})
	// And a call Ada places from the desk is hers too.
	converse(t, desk, grace, "1002", func(stage string) {
		got := lamp(parseDialogInfo(t, adaKey.Next()))
		if want := stage + " initiator Grace Hopper <sip:1002@acme.example>"; got != want {
			t.Fatalf("%s: Ada's lamp %q, want %q", stage, got, want)
		}
	})
	select {
	case n := <-deskKey.Notifies:
		t.Fatalf("the desk's own lamp changed while Ada talked there: %s", n.Body())
	default:
	}
}

func TestPresenceGoesOnThePhoneAndBack(t *testing.T) {
	o := newOffice(t)
	ada, grace, reception := o.registered("1001"), o.registered("1002"), o.phone("1004")
	sub, res := reception.Subscribe("1001", "presence", 600)
	if res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE presence of 1001: %d", res.StatusCode)
	}
	type pidf struct {
		XMLName xml.Name `xml:"urn:ietf:params:xml:ns:pidf presence"`
		Entity  string   `xml:"entity,attr"`
		Basic   string   `xml:"tuple>status>basic"`
		Person  struct {
			Activities struct {
				OnThePhone *struct{} `xml:"urn:ietf:params:xml:ns:pidf:rpid on-the-phone"`
			} `xml:"urn:ietf:params:xml:ns:pidf:rpid activities"`
		} `xml:"urn:ietf:params:xml:ns:pidf:data-model person"`
	}
	read := func() string {
		n := sub.Next()
		if ct := n.ContentType(); ct == nil || ct.Value() != "application/pidf+xml" {
			t.Fatalf("presence NOTIFY Content-Type %v", ct)
		}
		var p pidf
		if err := xml.Unmarshal(n.Body(), &p); err != nil {
			t.Fatalf("PIDF does not parse: %v\n%s", err, n.Body())
		}
		if p.Entity != "sip:1001@acme.example" {
			t.Fatalf("PIDF entity %q", p.Entity)
		}
		if p.Person.Activities.OnThePhone != nil {
			return p.Basic + " on-the-phone"
		}
		return p.Basic
	}
	if got := read(); got != "open" {
		t.Fatalf("Ada idle: %q, want open", got)
	}
	converse(t, ada, grace, "1002", func(stage string) {
		want := "open on-the-phone"
		if stage == "terminated" {
			want = "open"
		}
		if got := read(); got != want {
			t.Fatalf("%s: Ada's presence %q, want %q", stage, got, want)
		}
	})
}

func TestLampsOfAnotherTenantAreRefusedLikeMissingOnes(t *testing.T) {
	o := newOffice(t)
	reception := o.phone("1004")
	for _, event := range []string{"dialog", "presence"} {
		_, missing := reception.Subscribe("1999", event, 600)
		_, other := reception.Subscribe("2001@globex.example", event, 600)
		_, otherHere := reception.Subscribe("2001", event, 600)
		for _, res := range []*sip.Response{missing, other, otherHere} {
			if res.StatusCode != 403 || res.Reason != missing.Reason {
				t.Fatalf("%s: %d %s, want the 403 %s a missing extension gets", event, res.StatusCode, res.Reason, missing.Reason)
			}
		}
	}
	_, res := reception.Subscribe("1001", "conference", 600)
	if res.StatusCode != 489 {
		t.Fatalf("event nobody serves: %d, want 489", res.StatusCode)
	}
	allow := res.GetHeader("Allow-Events")
	if allow == nil || !strings.Contains(allow.Value(), "dialog") || !strings.Contains(allow.Value(), "message-summary") {
		t.Fatalf("489 Allow-Events %v, want the packages served", allow)
	}
}
