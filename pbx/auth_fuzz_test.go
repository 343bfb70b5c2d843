package pbx

import (
	"strings"
	"testing"
	"time"

	"deskpbx/store"
)

// FuzzParseCredentials feeds the Authorization / Proxy-Authorization
// parser what the network may send. Whatever it accepts must name a
// user, nonce, uri and response that are substrings of the input (it
// never invents or unescapes), and verifying them must not panic. The
// seeds are the headers of the tests and of real phones.
func FuzzParseCredentials(f *testing.F) {
	for _, seed := range []string{
		`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
		`Digest username="1001", realm="acme.example", nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", uri="sip:127.0.0.1:5060", qop=auth, nc=00000001, cnonce="abc", response="00000000000000000000000000000000", algorithm=MD5`,
		`Digest username="1001",realm="acme.example",nonce="n",uri="sip:acme.example",response="x",algorithm=SHA-256`,
		"digest\tusername=a, nonce=b, uri=c, response=d",
		`Digest username="a\"b", realm="r", nonce="n", uri="u", response="x"`,
		`Digest username="a, realm="r", nonce="n", uri="u", response="x"`,
		``, `Basic dXNlcjpwYXNz`, `Digest`, `Digest username="a"`,
	} {
		f.Add(seed)
	}
	ext := &store.Extension{HA1MD5: store.HA1MD5("1001", "acme.example", "pw-1001-x"), HA1SHA256: strings.Repeat("0", 64)}
	f.Fuzz(func(t *testing.T, v string) {
		c, ok := parseCredentials(v)
		if !ok {
			return
		}
		for name, field := range map[string]string{"username": c.username, "nonce": c.nonce, "uri": c.uri, "response": c.response} {
			if field == "" || !strings.Contains(v, field) {
				t.Fatalf("accepted %q with %s %q, not a part of it", v, name, field)
			}
		}
		verifyDigest(&c, ext, "REGISTER")
	})
}

// FuzzChallengeRoundTrip checks that what we send in WWW-Authenticate
// parses back as the credentials a phone would echo.
func FuzzChallengeRoundTrip(f *testing.F) {
	f.Add("acme.example", "1001")
	f.Add("beta.example", "2001")
	f.Fuzz(func(t *testing.T, realm, user string) {
		if strings.ContainsAny(realm+user, "\"\\\r\n") || realm == "" || user == "" || strings.TrimSpace(user) != user {
			return // values we never put in a challenge
		}
		n := newNonceStore(authFailWindow, time.Now)
		nonce := n.issue("127.0.0.1:5060")
		for _, h := range challenge(realm, nonce, true, true) {
			echo := strings.Replace(h, `Digest realm=`, `Digest username="`+user+`", uri="sip:x", response="00", realm=`, 1)
			c, ok := parseCredentials(echo)
			if !ok || c.realm != realm || c.nonce != nonce || c.username != user {
				t.Fatalf("challenge %q echoed as %q parsed as %+v, %v", h, echo, c, ok)
			}
		}
	})
}
