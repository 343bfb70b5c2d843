package pbx

import (
	"strings"
	"testing"

	"deskpbx/store"
)

// The worked example of RFC 2617 §3.5.
func TestVerifyDigestRFC2617Example(t *testing.T) {
	ext := &store.Extension{HA1MD5: store.HA1MD5("Mufasa", "testrealm@host.com", "Circle Of Life")}
	hdr := `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`
	c, ok := parseCredentials(hdr)
	if !ok {
		t.Fatal("the RFC's Authorization header did not parse")
	}
	if !verifyDigest(&c, ext, "GET") {
		t.Fatal("the RFC's response did not verify")
	}
	upper := c
	upper.response = strings.ToUpper(c.response)
	if !verifyDigest(&upper, ext, "GET") {
		t.Fatal("an upper-case hex response did not verify")
	}
	for name, mutate := range map[string]func(*credentials){
		"method":   func(c *credentials) {},
		"nc":       func(c *credentials) { c.nc = "00000002" },
		"response": func(c *credentials) { c.response = "6629fae49393a05397450978507c4ef2" },
		"short":    func(c *credentials) { c.response = "6629fae4" },
		"qop":      func(c *credentials) { c.qop = "auth-int" },
		"alg":      func(c *credentials) { c.algorithm = "MD5-sess" },
	} {
		bad := c
		mutate(&bad)
		method := "GET"
		if name == "method" {
			method = "REGISTER"
		}
		if verifyDigest(&bad, ext, method) {
			t.Errorf("changed %s still verifies", name)
		}
	}
}

func TestParseCredentialsRefusesMalformed(t *testing.T) {
	for _, h := range []string{
		``, `Basic dXNlcjpwYXNz`, `Digest`, `Digest username="a"`,
		`Digest username="a, realm="r", nonce="n", uri="u", response="x"`,
		`Digest username="a\"b", realm="r", nonce="n", uri="u", response="x"`,
	} {
		if _, ok := parseCredentials(h); ok {
			t.Errorf("parseCredentials(%q) accepted it", h)
		}
	}
}

func BenchmarkVerifyDigest(b *testing.B) {
	ext := &store.Extension{HA1MD5: store.HA1MD5("1001", "acme.example", "pw-1001-x")}
	c, _ := parseCredentials(`Digest username="1001", realm="acme.example", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1:5060", qop=auth, nc=00000001, cnonce="abc", response="00000000000000000000000000000000", algorithm=MD5`)
	b.ReportAllocs()
	for b.Loop() {
		verifyDigest(&c, ext, "REGISTER")
	}
}

// BenchmarkParseCredentials parses the Authorization header SIPp sends in
// scripts/bench.sh reg.
func BenchmarkParseCredentials(b *testing.B) {
	const hdr = `Digest username="1001",realm="bench.example",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:25060",nonce="GOz97pemhWkAAAAAAAAAASmyslMKsV2GpTGUog",response="00076d2337bfe4d1317cbf6299ce1b89",algorithm=MD5`
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseCredentials(hdr); !ok {
			b.Fatal("refused")
		}
	}
}
