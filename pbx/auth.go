package pbx

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"deskpbx/store"
)

// credentials is one parsed Authorization / Proxy-Authorization header.
// Fields are substrings of the header value: parsing allocates nothing but
// this struct, which matters at ~20,000 REGISTERs a second.
type credentials struct {
	username, realm, nonce, uri, response string
	algorithm, cnonce, qop, nc, opaque    string
}

// parseCredentials parses a Digest credentials header in one pass.
func parseCredentials(v string) (credentials, bool) {
	var c credentials
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:6], "digest") || (v[6] != ' ' && v[6] != '\t') {
		return c, false
	}
	i := 7
	for i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ',' || v[i] == '\r' || v[i] == '\n') {
			i++
		}
		if i >= len(v) {
			break
		}
		ks := i
		for i < len(v) && v[i] != '=' && v[i] != ',' && v[i] != ' ' {
			i++
		}
		key := v[ks:i]
		for i < len(v) && v[i] == ' ' {
			i++
		}
		if i >= len(v) || v[i] != '=' {
			return c, false
		}
		i++
		for i < len(v) && v[i] == ' ' {
			i++
		}
		var val string
		if i < len(v) && v[i] == '"' {
			i++
			vs := i
			for i < len(v) && v[i] != '"' {
				if v[i] == '\\' {
					// Escaped characters never occur in the values we
					// check; refuse rather than unescape.
					return c, false
				}
				i++
			}
			if i >= len(v) {
				return c, false
			}
			val = v[vs:i]
			i++
		} else {
			vs := i
			for i < len(v) && v[i] != ',' && v[i] != ' ' {
				i++
			}
			val = v[vs:i]
		}
		switch strings.ToLower(key) {
		case "username":
			c.username = val
		case "realm":
			c.realm = val
		case "nonce":
			c.nonce = val
		case "uri":
			c.uri = val
		case "response":
			c.response = val
		case "algorithm":
			c.algorithm = val
		case "cnonce":
			c.cnonce = val
		case "qop":
			c.qop = val
		case "nc":
			c.nc = val
		case "opaque":
			c.opaque = val
		}
	}
	if c.username == "" || c.nonce == "" || c.uri == "" || c.response == "" {
		return c, false
	}
	return c, true
}

// nonceStore issues nonces and remembers, per nonce, the highest nonce
// count seen, so a captured Authorization cannot be replayed. A nonce
// carries its issue time and an HMAC, so an expired or forged one is
// recognised without a lookup, and an expired one earns stale=true.
type nonceStore struct {
	key    [32]byte
	ttl    time.Duration
	now    func() time.Time
	shards [16]nonceShard
}

type nonceShard struct {
	mu   sync.Mutex
	seen map[string]uint32 // nonce -> last nc; 0 until first use
}

func newNonceStore(ttl time.Duration, now func() time.Time) *nonceStore {
	s := &nonceStore{ttl: ttl, now: now}
	rand.Read(s.key[:])
	for i := range s.shards {
		s.shards[i].seen = make(map[string]uint32)
	}
	return s
}

const nonceRawLen = 8 + 8 + 12

func (s *nonceStore) issue() string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(s.now().UnixNano()))
	rand.Read(raw[8:16])
	m := hmac.New(sha256.New, s.key[:])
	m.Write(raw[:16])
	copy(raw[16:], m.Sum(nil))
	n := base64.RawURLEncoding.EncodeToString(raw[:])
	sh := s.shard(n)
	sh.mu.Lock()
	sh.seen[n] = 0
	sh.mu.Unlock()
	return n
}

func (s *nonceStore) shard(n string) *nonceShard {
	var h uint8
	for i := 0; i < len(n); i++ {
		h = h*31 + n[i]
	}
	return &s.shards[h%uint8(len(s.shards))]
}

type nonceVerdict int

const (
	nonceOK nonceVerdict = iota
	nonceStale
	nonceBad
)

// check decides whether nonce may be used with nonce count nc ("" when
// the client did not use qop, in which case the nonce is good once).
func (s *nonceStore) check(n, nc string) nonceVerdict {
	if len(n) != base64.RawURLEncoding.EncodedLen(nonceRawLen) {
		return nonceBad
	}
	var raw [nonceRawLen]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(n)); err != nil {
		return nonceBad
	}
	m := hmac.New(sha256.New, s.key[:])
	m.Write(raw[:16])
	if !hmac.Equal(m.Sum(nil)[:12], raw[16:]) {
		return nonceBad
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	if s.now().Sub(issued) > s.ttl {
		return nonceStale
	}
	sh := s.shard(n)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	last, ok := sh.seen[n]
	if !ok {
		// Ours, unexpired, but not remembered: issued before a restart or
		// already spent. A fresh challenge fixes either.
		return nonceStale
	}
	if nc == "" {
		delete(sh.seen, n)
		return nonceOK
	}
	count, err := strconv.ParseUint(nc, 16, 32)
	if err != nil || len(nc) != 8 {
		return nonceBad
	}
	if uint32(count) <= last {
		return nonceStale
	}
	sh.seen[n] = uint32(count)
	return nonceOK
}

// sweep forgets nonces that have expired.
func (s *nonceStore) sweep() {
	cutoff := s.now().Add(-s.ttl)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for n := range sh.seen {
			raw, err := base64.RawURLEncoding.DecodeString(n)
			if err != nil || len(raw) < 8 || time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8]))).Before(cutoff) {
				delete(sh.seen, n)
			}
		}
		sh.mu.Unlock()
	}
}

// challenge returns the WWW-/Proxy-Authenticate values for realm. MD5
// comes first and SHA-256 (RFC 8760) only when enabled: phones in the
// field (SIPp among them) take the first challenge and know only MD5.
func challenge(realm, nonce string, stale, sha256 bool) []string {
	tail := `", nonce="` + nonce + `", qop="auth"`
	if stale {
		tail += ", stale=true"
	}
	out := []string{`Digest realm="` + realm + tail + `, algorithm=MD5`}
	if sha256 {
		out = append(out, `Digest realm="`+realm+tail+`, algorithm=SHA-256`)
	}
	return out
}

// verifyDigest checks c against the extension's stored HA1 for method.
// It hashes into stack buffers: it runs for every authenticated request.
func verifyDigest(c *credentials, ext *store.Extension, method string) bool {
	var ha1 string
	sha := false
	switch strings.ToUpper(c.algorithm) {
	case "", "MD5":
		ha1 = ext.HA1MD5
	case "SHA-256":
		ha1, sha = ext.HA1SHA256, true
	default:
		return false
	}
	hashHex := func(dst *[64]byte, b []byte) int {
		if sha {
			h := sha256.Sum256(b)
			return hex.Encode(dst[:], h[:])
		}
		h := md5.Sum(b)
		return hex.Encode(dst[:], h[:])
	}
	var buf [512]byte
	var ha2 [64]byte
	b := append(append(append(buf[:0], method...), ':'), c.uri...)
	n := hashHex(&ha2, b)
	b = append(append(buf[:0], ha1...), ':')
	b = append(append(b, c.nonce...), ':')
	switch c.qop {
	case "auth":
		b = append(append(b, c.nc...), ':')
		b = append(append(b, c.cnonce...), ':')
		b = append(append(b, c.qop...), ':')
	case "":
	default:
		return false
	}
	b = append(b, ha2[:n]...)
	var want [64]byte
	n = hashHex(&want, b)
	if len(c.response) != n {
		return false
	}
	var got [64]byte
	for i := 0; i < n; i++ {
		got[i] = c.response[i] | 0x20 // hex digits compare case-insensitively
	}
	return subtle.ConstantTimeCompare(got[:n], want[:n]) == 1
}
