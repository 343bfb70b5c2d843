package mwi

import (
	"context"
	"testing"

	"deskpbx/store"
)

func TestSummaryIsRFC3842(t *testing.T) {
	for _, c := range []struct {
		newMsgs, old int
		want         string
	}{
		{0, 0, "Messages-Waiting: no\r\nMessage-Account: sip:1001@acme.example\r\nVoice-Message: 0/0 (0/0)\r\n"},
		{0, 4, "Messages-Waiting: no\r\nMessage-Account: sip:1001@acme.example\r\nVoice-Message: 0/4 (0/0)\r\n"},
		{2, 1, "Messages-Waiting: yes\r\nMessage-Account: sip:1001@acme.example\r\nVoice-Message: 2/1 (0/0)\r\n"},
	} {
		if got := string(Summary("sip:1001@acme.example", c.newMsgs, c.old)); got != c.want {
			t.Errorf("Summary(%d, %d) = %q, want %q", c.newMsgs, c.old, got, c.want)
		}
	}
}

func TestAPhoneWithNobodySeatedWatchesOnlyItsOwnMailbox(t *testing.T) {
	phone := &store.Extension{ID: 7, TenantID: 1, Domain: "acme.example", Number: "1003"}
	l := &Lights{}
	if res, ok := l.Authorize(context.Background(), phone, "1003"); !ok || res != "7" {
		t.Fatalf("own mailbox: %q %v, want resource 7", res, ok)
	}
	if _, ok := l.Authorize(context.Background(), phone, "1001"); ok {
		t.Fatal("a phone may watch another person's mailbox")
	}
}
