package presence

import (
	"context"
	"encoding/xml"
	"strings"
	"testing"

	"deskpbx/store"
)

var (
	ada   = &store.Extension{ID: 1, TenantID: 1, Domain: "acme.example", Number: "1001", DisplayName: `Ada "<Countess>" & co`}
	grace = &store.Extension{ID: 2, TenantID: 1, Domain: "acme.example", Number: "1002", DisplayName: "Grace Hopper"}
	alan  = &store.Extension{ID: 3, TenantID: 1, Domain: "acme.example", Number: "1003", DisplayName: "Alan Turing"}
)

func states(ds []dialog) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.id+"="+dialogStates[d.state])
	}
	return strings.Join(out, ",")
}

func TestAPersonWithTwoCallsStaysBusyUntilBothEnd(t *testing.T) {
	tr := NewTracker(nil)
	var changed []string
	tr.Changed = func(event, resource string) { changed = append(changed, event+":"+resource) }
	ctx := context.Background()
	tr.Update(ctx, Call{ID: "c1", Identity: ada, Peer: grace, Outgoing: true, State: Confirmed})
	tr.Update(ctx, Call{ID: "c2", Identity: ada, Peer: alan, State: Early})
	if !busy(tr.snapshot(ada.ID)) {
		t.Fatal("Ada talking and ringing is not busy")
	}
	tr.Update(ctx, Call{ID: "c1", Identity: ada, Peer: grace, Outgoing: true, State: Terminated})
	if got := states(tr.snapshot(ada.ID)); got != "c2=early,c1=terminated" {
		t.Fatalf("after the first call ends: %s, want the ringing call and the ended one", got)
	}
	tr.Update(ctx, Call{ID: "c2", Identity: ada, Peer: alan, State: Terminated})
	if got := states(tr.snapshot(ada.ID)); got != "c2=terminated" {
		t.Fatalf("after both end: %s, want only the latest ended call, once", got)
	}
	if busy(tr.snapshot(ada.ID)) {
		t.Fatal("Ada with no call is busy")
	}
	if len(changed) != 8 || changed[0] != "dialog:1" || changed[1] != "presence:1" {
		t.Fatalf("changes reported: %v, want dialog and presence of resource 1 per update", changed)
	}
}

func TestBodiesAreWellFormedWhateverTheDisplayName(t *testing.T) {
	di := dialogInfo(ada, []dialog{{id: "abc@host", peer: grace, outgoing: true, state: Confirmed}}, 7)
	var d struct {
		Version string `xml:"version,attr"`
		Dialog  struct {
			Direction string `xml:"direction,attr"`
			State     string `xml:"state"`
			Local     struct {
				Display string `xml:"display,attr"`
			} `xml:"local>identity"`
		} `xml:"dialog"`
	}
	if err := xml.Unmarshal(di, &d); err != nil {
		t.Fatalf("dialog-info: %v\n%s", err, di)
	}
	if d.Version != "7" || d.Dialog.State != "confirmed" || d.Dialog.Direction != "initiator" || d.Dialog.Local.Display != ada.DisplayName {
		t.Fatalf("dialog-info read back as %+v", d)
	}
	for _, busy := range []bool{false, true} {
		var p struct {
			Entity string `xml:"entity,attr"`
			Note   string `xml:"tuple>note"`
		}
		if err := xml.Unmarshal(PIDF(ada, busy), &p); err != nil {
			t.Fatalf("PIDF busy=%v: %v", busy, err)
		}
		if want := map[bool]string{false: "Available", true: "On the phone"}[busy]; p.Note != want || p.Entity != "sip:1001@acme.example" {
			t.Fatalf("PIDF busy=%v: %+v", busy, p)
		}
	}
}
