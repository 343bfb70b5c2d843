package sip

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The parser's output for a corpus of messages is kept in
// testdata/parse_golden.txt, written by the parser as it was before
// deskpbx's allocation patches to it (patch 8): every header's type and
// fields, the start line, the body, the message written back, and the
// error. A faster parse must produce exactly the same.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/parse_golden.txt from the parser as it is")

// goldenMessages are shapes the RFC 4475 corpus (in deskpbx's
// pbx/testdata) has few of or none: each field of the common address and
// URI forms, in the places a shortcut through them could go wrong.
var goldenMessages = []struct{ name, text string }{
	{"register1", string(benchRegisters[0])},
	{"register2", string(benchRegisters[1])},
	{"addresses", crlf(`INVITE sip:bob@example.com;transport=tcp?Subject=x&Priority=urgent SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;received=10.0.0.9;rport=5070, SIP/2.0/TCP [2001:db8::1]:5061;branch=z9hG4bK2
v: SIP/2.0/TLS host.example;branch=z9hG4bK3;maddr=1.2.3.4;ttl=1
From: "Alice \"A\" Smith" <sip:alice:secret@example.com:5070;user=phone;lr>;tag=abc;x
To: Bob <sips:bob@[2001:db8::2]:5061>;tag=
t: sip:carol@example.com;tag=1;q=0.5
f: "Dave"<sip:dave@example.com>;tag=9
Contact: <sip:a@1.2.3.4:5060;transport=udp>;expires=60;q=0.7, "B, b" <sip:b@5.6.7.8>;+sip.instance="<urn:uuid:1>",<sip:c@9.9.9.9>;expires=0
m: *
Contact: <tel:+15551234567;phone-context=example.com>
Contact: <SIP:Upper@EXAMPLE.com>
Contact: <sip://slashes@example.com>
Contact: <urn:service:sos>
Contact: <sip:nouser.example.com:5080;lr;maddr=1.1.1.1>;expires = 30 ; q = 1
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Record-Route: <sip:rr1.example.com;lr;ftag=a>,<sip:rr2.example.com>
Refer-To: <sip:x@example.com?Replaces=abc%40d%3Bto-tag%3D1%3Bfrom-tag%3D2>
Referred-By: "Ref" <sip:ref@example.com>;cid=1
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Max-Forwards: 70
Expires: 30
Content-Type: application/sdp
User-Agent: test
X-Very-Long-Header-Name-Beyond-Thirty-Two: yes
x-lower: mixed
MAX-FORWARDS: 69
CALL-id: second
Subject:
Content-Length: 4

abcd`)},
	{"contact-list-space", crlf("REGISTER sip:example.com SIP/2.0\nContact: <sip:a@h>, sip:c@9.9.9.9;expires=0\n\n")},
	{"contact-list", crlf("REGISTER sip:example.com SIP/2.0\nContact: sip:a@h;expires=1,sip:c@9.9.9.9;expires=0,\"x\" <sip:d@h>\nContact: <sip:e@h>,\n\n")},
	{"quoted-only", crlf("REGISTER sip:example.com SIP/2.0\nContact: \"quoted only\";x=1\n\n")},
	{"response", crlf(`SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 127.0.0.1:25061;branch=z9hG4bK-1;rport=25061;received=127.0.0.1
From: <sip:1001@bench.example>;tag=1
To: <sip:1001@bench.example>;tag=2
Call-ID: 1@127.0.0.1
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="bench.example", nonce="abc", algorithm=MD5, qop="auth"
Content-Length: 0

`)},
	{"folded", crlf("OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP h.example\n ;branch=z9hG4bK9\nFrom: <sip:a@example.com>\n\t;tag=1\nTo: <sip:x@example.com>\nCall-ID: f\nCSeq: 1 OPTIONS\nX-Folded: one\n  two  \n\tthree\nContent-Length: 0\n\n")},
	{"spaces", "OPTIONS sip:x@example.com SIP/2.0\r\nVia :  SIP/2.0/UDP h.example ; branch = z9hG4bK9 \r\nFrom:\t<sip:a@example.com> ; tag = 1 \r\nTo:<sip:x@example.com>\r\nCall-ID:\tf \r\nCSeq: 1\tOPTIONS\r\nContact: <sip:a@h.example;transport=udp>;expires= 5\r\nContent-Length:  0 \r\n\r\n"},
	{"no-colon", crlf("OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP h.example;branch=z9hG4bK9\nBroken header line\nContent-Length: 0\n\n")},
	{"bad-cseq", crlf("OPTIONS sip:x@example.com SIP/2.0\nCSeq: one OPTIONS\n\n")},
	{"bad-maxfwd", crlf("OPTIONS sip:x@example.com SIP/2.0\nMax-Forwards: x\n\n")},
	{"bad-port", crlf("OPTIONS sip:x@example.com SIP/2.0\nContact: <sip:a@h.example:port>\n\n")},
	{"no-bracket-end", crlf("OPTIONS sip:x@example.com SIP/2.0\nFrom: <sip:a@h.example;tag=1\n\n")},
	{"empty-to", crlf("OPTIONS sip:x@example.com SIP/2.0\nTo: \n\n")},
	{"wildcard-to", crlf("OPTIONS sip:x@example.com SIP/2.0\nTo: *\n\n")},
	{"bad-scheme", crlf("OPTIONS sip:x@example.com SIP/2.0\nFrom: <s%p:a@h.example>;tag=1\n\n")},
	{"bare-lf", "OPTIONS sip:x@example.com SIP/2.0\nVia: SIP/2.0/UDP h\n\n"},
	{"cr-only", "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n"},
	{"no-end", "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"},
	{"no-empty-line", "OPTIONS sip:x@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0"},
	{"body-short", crlf("MESSAGE sip:x@example.com SIP/2.0\nContent-Length: 10\n\nabc")},
	{"body-no-length", crlf("MESSAGE sip:x@example.com SIP/2.0\nContent-Type: text/plain\n\nhello\r\nworld")},
	{"not-sip", crlf("GET / HTTP/1.1\nHost: x\n\n")},
	{"wildcard-ruri", crlf("REGISTER * SIP/2.0\n\n")},
	{"utf8", crlf("MESSAGE sip:jürgen@example.com SIP/2.0\nFrom: \"Jürgen\" <sip:jürgen@exämple.com>;tag=ü\nTo: Zoë <sip:zoe@example.com;ä=ö>\nSubject: héllo\n\n")},
	{"quoted-params", crlf("OPTIONS sip:x@example.com SIP/2.0\nContact: <sip:a@h.example;p=\"v;w\">;q=\"0;5\";x=\"a b\", <sip:b@h>\nVia: SIP/2.0/UDP h;branch=\"z9hG4bK;1\";x\n\n")},
	{"semicolons", crlf("OPTIONS sip:x@example.com;;a;=b;c= SIP/2.0\nFrom: <sip:a@h>;;tag=1;;\nTo: <sip:b@h;;x>;=;y=\nContact: <sip:c@h?>;z\n\n")},
}

func TestParseMatchesGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "pbx", "testdata", "rfc4475")
	files, err := filepath.Glob(filepath.Join(dir, "*.dat"))
	if err != nil || len(files) == 0 {
		t.Fatalf("RFC 4475 corpus in %s: %v (%d files)", dir, err, len(files))
	}
	var corpus [][2]string
	for _, m := range goldenMessages {
		corpus = append(corpus, [2]string{m.name, m.text})
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		corpus = append(corpus, [2]string{filepath.Base(f), string(data)})
	}
	// The parser with its own header parsers (the arena), and one given
	// the same map, which looks each header's parser up in it.
	for _, p := range []*Parser{NewParser(), NewParser(WithHeadersParsers(headersParsers))} {
		t.Run(fmt.Sprintf("stock=%v", p.stock), func(t *testing.T) { compareGolden(t, p, corpus) })
	}
}

func compareGolden(t *testing.T, p *Parser, corpus [][2]string) {
	var got strings.Builder
	for _, m := range corpus {
		dumpParse(&got, p, m[0], []byte(m[1]))
	}

	golden := filepath.Join("testdata", "parse_golden.txt")
	if *updateGolden {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	wantLines, gotLines := strings.Split(string(want), "\n"), strings.Split(got.String(), "\n")
	for i := range max(len(wantLines), len(gotLines)) {
		w, g := "<none>", "<none>"
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if w != g {
			t.Fatalf("parse differs from %s at line %d:\nwant %s\ngot  %s", golden, i+1, w, g)
		}
	}
}

// dumpParse writes what ParseSIP made of data, field by field.
func dumpParse(w *strings.Builder, p *Parser, name string, data []byte) {
	fmt.Fprintf(w, "=== %s\n", name)
	msg, err := p.ParseSIP(data)
	fmt.Fprintf(w, "err: %v\n", err)
	if msg == nil || reflect.ValueOf(msg).IsNil() {
		return
	}
	var hs *headers
	switch m := msg.(type) {
	case *Request:
		fmt.Fprintf(w, "request: %q %q %#v\n", m.Method, m.SipVersion, m.Recipient)
		hs = &m.headers
	case *Response:
		fmt.Fprintf(w, "response: %q %d %q\n", m.SipVersion, m.StatusCode, m.Reason)
		hs = &m.headers
	}
	for i, h := range hs.Headers() {
		fmt.Fprintf(w, "header %d: %q %T %#v\n", i, h.Name(), h, reflect.ValueOf(h).Elem().Interface())
		fmt.Fprintf(w, "  value: %q\n", h.Value())
	}
	for _, name := range []string{"via", "from", "to", "call-id", "contact", "cseq", "content-length", "content-type", "route", "record-route", "max-forwards", "expires", "authorization"} {
		fmt.Fprintf(w, "get %s: %d", name, len(hs.GetHeaders(name)))
		if h := hs.GetHeader(name); h != nil {
			fmt.Fprintf(w, " %q", h.Value())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "body: %q\n", msg.Body())
	fmt.Fprintf(w, "string: %q\n", msg.String())
}

// Every prefix of every one of goldenMessages (so every way a header,
// a URI or a parameter list can be cut short) parses the same into the
// arena as through the map of header parsers (what the parser did before
// the arena). Not a fuzz target: this copy of sipgo is a module of its
// own, which deskpbx's make fuzz cannot reach.
func TestArenaParseMatchesMapParseOnPrefixes(t *testing.T) {
	stock, mapped := NewParser(), NewParser(WithHeadersParsers(headersParsers))
	for _, m := range goldenMessages {
		for n := range len(m.text) + 1 {
			data := []byte(m.text[:n])
			var a, b strings.Builder
			dumpParse(&a, stock, "", data)
			dumpParse(&b, mapped, "", data)
			if a.String() != b.String() {
				t.Fatalf("%s cut at %d: arena parse differs:\n%s\nmap parse:\n%s", m.name, n, a.String(), b.String())
			}
		}
	}
}
