package pbx

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// A REGISTER's 200 written straight into bytes (the UDP path) is the
// very message its sipgo Response encodes to (the TCP path), whatever the
// request's Vias, tags and the bindings listed.
func TestRegisteredEncodeIsItsResponse(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 30, 15, 400e6, time.UTC)
	contact := func(raw string) string {
		var u sip.Uri
		if err := sip.ParseUri(raw, &u); err != nil {
			t.Fatal(err)
		}
		return uriString(&u)
	}
	cases := []struct {
		name, raw, src string
		bound          []store.Binding
	}{
		{
			name: "SIPp's signed REGISTER",
			raw: "REGISTER sip:bench.example SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP 127.0.0.1:25061;branch=z9hG4bK-2538-1-2;rport\r\n" +
				"From: <sip:1001@bench.example>;tag=2538SIPpTag001\r\nTo: <sip:1001@bench.example>\r\n" +
				"Call-ID: 1-2538@127.0.0.1\r\nCSeq: 2 REGISTER\r\n" +
				"Contact: <sip:1001@127.0.0.1:25061;transport=UDP>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
			src:   "127.0.0.1:25061",
			bound: []store.Binding{{Contact: contact("sip:1001@127.0.0.1:25061;transport=UDP"), Expires: now.Add(3600 * time.Second)}},
		},
		{
			name: "rport first, two Vias, To tagged, IPv6, an expired and a parameterised contact",
			raw: "REGISTER sip:acme.example SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP [::1]:5070;rport;branch=z9hG4bK-7;alias\r\n" +
				"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK-0\r\n" +
				"From: \"Ada L\" <sip:1001@acme.example>;tag=f1\r\nTo: \"Ada L\" <sip:1001@acme.example>;tag=t9\r\n" +
				"Call-ID: c1@host\r\nCSeq: 7 REGISTER\r\nContent-Length: 0\r\n\r\n",
			src: "[::1]:5071",
			bound: []store.Binding{
				{Contact: contact("sip:1001;line=2@[::1]:5070;transport=tcp;ob"), Expires: now.Add(59600 * time.Millisecond)},
				{Contact: contact("sips:ada@phone.example"), Expires: now.Add(-2 * time.Second)},
			},
		},
		{
			name: "received already there, then rport, then a valued parameter",
			raw: "REGISTER sip:acme.example SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP phone.example:5062;received=10.1.1.1;rport;branch=z9hG4bK-x;maddr=10.9.9.9\r\n" +
				"From: <sip:1001@acme.example>;tag=a\r\nTo: <sip:1001@acme.example>\r\n" +
				"Call-ID: c3\r\nCSeq: 9 REGISTER\r\nContent-Length: 0\r\n\r\n",
			src:   "127.0.0.1:40000",
			bound: []store.Binding{{Contact: contact("sip:1001@127.0.0.1:40000"), Expires: now.Add(time.Hour)}},
		},
		{
			name: "no rport, nothing bound",
			raw: "REGISTER sip:acme.example SIP/2.0\r\n" +
				"Via: SIP/2.0/UDP 127.0.0.9:5062;branch=z9hG4bK-1\r\n" +
				"From: <sip:1001@acme.example>;tag=a\r\nTo: <sip:1001@acme.example>\r\n" +
				"Call-ID: c2\r\nCSeq: 8 REGISTER\r\nContact: *\r\nExpires: 0\r\nContent-Length: 0\r\n\r\n",
			src: "127.0.0.9:5062",
		},
	}
	for _, c := range cases {
		m, err := sip.ParseMessage([]byte(c.raw))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		req := m.(*sip.Request)
		req.SetSource(c.src)
		before := req.String()
		r := &registered{current: c.bound, now: now}
		got := r.encode(req, netip.MustParseAddrPort(c.src))
		want := encodeResponse(r.response(req))
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encode:\n%s\nresponse:\n%s", c.name, got, want)
		}
		if !bytes.Contains(got, []byte("\r\nDate: Tue, 01 Dec 2026 09:30:15 GMT\r\n\r\n")) {
			t.Errorf("%s: no Date of %v in\n%s", c.name, now, got)
		}
		if after := req.String(); after != before {
			t.Errorf("%s: the request was changed:\n%s\nnow:\n%s", c.name, before, after)
		}
	}
}
