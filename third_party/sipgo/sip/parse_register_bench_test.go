package sip

import (
	"strings"
	"testing"
)

// The two REGISTERs of one registration in `scripts/bench.sh reg`, byte for
// byte as SIPp sends them (test/sipp/register.xml): the first unsigned,
// the second answering the 401. They are parsed on the UDP reading
// goroutine, so what they cost bounds the registration rate.
var benchRegisters = [2][]byte{
	[]byte(crlf(`REGISTER sip:bench.example SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:25061;branch=z9hG4bK-2538-1-0;rport
From: <sip:1001@bench.example>;tag=2538SIPpTag001
To: <sip:1001@bench.example>
Call-ID: 1-2538@127.0.0.1
CSeq: 1 REGISTER
Contact: <sip:1001@127.0.0.1:25061;transport=UDP>
Expires: 3600
Max-Forwards: 70
User-Agent: SIPp deskpbx-test
Content-Length: 0

`)),
	[]byte(crlf(`REGISTER sip:bench.example SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:25061;branch=z9hG4bK-2538-1-2;rport
From: <sip:1001@bench.example>;tag=2538SIPpTag001
To: <sip:1001@bench.example>
Call-ID: 1-2538@127.0.0.1
CSeq: 2 REGISTER
Contact: <sip:1001@127.0.0.1:25061;transport=UDP>
Authorization: Digest username="1001",realm="bench.example",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:25060",nonce="GOz97pemhWkAAAAAAAAAASmyslMKsV2GpTGUog",response="00076d2337bfe4d1317cbf6299ce1b89",algorithm=MD5
Expires: 3600
Max-Forwards: 70
User-Agent: SIPp deskpbx-test
Content-Length: 0

`)),
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// BenchmarkParseRegistration parses both REGISTERs of a registration per
// op, as the UDP transport does (ParseSIP of a read buffer).
func BenchmarkParseRegistration(b *testing.B) {
	p := NewParser()
	b.ReportAllocs()
	for b.Loop() {
		for _, data := range benchRegisters {
			if _, err := p.ParseSIP(data); err != nil {
				b.Fatal(err)
			}
		}
	}
}
