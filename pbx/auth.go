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
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

// credentialKeys are the parameters parseCredentials keeps, in the order
// of credentials' fields.
var credentialKeys = [...]string{"username", "realm", "nonce", "uri", "response", "algorithm", "cnonce", "qop", "nc", "opaque"}

// Byte classes parseCredentials skips over or up to: a table lookup per
// byte, where strings.IndexByte on the set cost a call per byte (a tenth
// of the registrar's own CPU under a registration storm, pprof).
var (
	credSep      = byteSet(" \t,\r\n") // between parameters
	credKeyEnd   = byteSet("=, ")
	credSpace    = byteSet(" ")
	credQuoteEnd = byteSet(`"\`)
	credTokenEnd = byteSet(", ")
)

type byteClass [256]bool

func byteSet(s string) *byteClass {
	var c byteClass
	for i := 0; i < len(s); i++ {
		c[s[i]] = true
	}
	return &c
}

// parseCredentials parses a Digest credentials header in one pass.
func parseCredentials(v string) (credentials, bool) {
	var c credentials
	fields := [...]*string{&c.username, &c.realm, &c.nonce, &c.uri, &c.response, &c.algorithm, &c.cnonce, &c.qop, &c.nc, &c.opaque}
	v = strings.TrimSpace(v)
	if len(v) < 7 || !strings.EqualFold(v[:6], "digest") || (v[6] != ' ' && v[6] != '\t') {
		return c, false
	}
	i := 7
	// skip moves i past the bytes that are (in) or are not (!in) in set,
	// and returns where it started.
	skip := func(set *byteClass, in bool) int {
		start := i
		for i < len(v) && set[v[i]] == in {
			i++
		}
		return start
	}
	for {
		skip(credSep, true)
		if i >= len(v) {
			break
		}
		key := v[skip(credKeyEnd, false):i]
		skip(credSpace, true)
		if i >= len(v) || v[i] != '=' {
			return c, false
		}
		i++
		skip(credSpace, true)
		var val string
		if i < len(v) && v[i] == '"' {
			i++
			val = v[skip(credQuoteEnd, false):i]
			// Escaped characters never occur in the values we check;
			// refuse rather than unescape.
			if i >= len(v) || v[i] != '"' {
				return c, false
			}
			i++
		} else {
			val = v[skip(credTokenEnd, false):i]
		}
		for j, k := range credentialKeys {
			if len(key) == len(k) && strings.EqualFold(key, k) {
				*fields[j] = val
				break
			}
		}
	}
	if c.username == "" || c.nonce == "" || c.uri == "" || c.response == "" {
		return c, false
	}
	return c, true
}

// nonceStore issues nonces without keeping anything per challenge: a
// nonce carries its issue time, a serial number and an HMAC over both and
// the address it was issued to, so a forged one, or one sent from another
// address, is recognised without a lookup (and an attacker who cannot
// receive our answers cannot produce one that counts as a failed guess).
// Replays are caught by a fixed table indexed by serial: a slot remembers
// the newest nonce used in it and its highest nonce count. A nonce whose
// slot a newer nonce has taken is stale, so memory stays the same however
// many challenges go out (the scheme of Kamailio's auth module).
type nonceStore struct {
	key    [32]byte
	ttl    time.Duration
	now    func() time.Time
	serial atomic.Uint64
	slots  []nonceSlot
	locks  [64]sync.Mutex
	macs   sync.Pool // of hash.Hash, HMAC-SHA256 keyed with key
}

type nonceSlot struct {
	serial uint64
	nc     uint32 // highest nonce count used; spentNC once used without qop
}

const (
	nonceRawLen = 8 + 8 + 12
	// nonceSlots bounds the replay table (16 bytes a slot). A phone's
	// nonce goes stale once this many newer nonces have been used, about
	// 13 s at 20,000 registrations a second, hours in an office.
	nonceSlots = 1 << 18
	spentNC    = ^uint32(0)
)

func newNonceStore(ttl time.Duration, now func() time.Time) *nonceStore {
	s := &nonceStore{ttl: ttl, now: now, slots: make([]nonceSlot, nonceSlots)}
	rand.Read(s.key[:])
	return s
}

func (s *nonceStore) mac(raw *[nonceRawLen]byte, source string) []byte {
	// A keyed HMAC is reused (Reset keeps the key): making one per nonce
	// was most of a challenge's cost.
	m, _ := s.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, s.key[:])
	}
	m.Reset()
	m.Write(raw[:16])
	io.WriteString(m, hostOf(source))
	var sum [sha256.Size]byte
	out := m.Sum(sum[:0])[:12]
	s.macs.Put(m)
	return out
}

// issue returns a fresh nonce for a request from source (host:port).
func (s *nonceStore) issue(source string) string {
	var raw [nonceRawLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(s.now().UnixNano()))
	binary.BigEndian.PutUint64(raw[8:16], s.serial.Add(1))
	copy(raw[16:], s.mac(&raw, source))
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

type nonceVerdict int

const (
	nonceOK nonceVerdict = iota
	nonceStale
	nonceBad
)

// authentic says whether n is a nonce we issued to source's address:
// nonceBad when not, nonceStale when it has expired. It returns the
// nonce's serial for use.
func (s *nonceStore) authentic(n, source string) (uint64, nonceVerdict) {
	if len(n) != base64.RawURLEncoding.EncodedLen(nonceRawLen) {
		return 0, nonceBad
	}
	var raw [nonceRawLen]byte
	if _, err := base64.RawURLEncoding.Decode(raw[:], []byte(n)); err != nil {
		return 0, nonceBad
	}
	if !hmac.Equal(s.mac(&raw, source), raw[16:]) {
		return 0, nonceBad
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	if s.now().Sub(issued) > s.ttl {
		return 0, nonceStale
	}
	return binary.BigEndian.Uint64(raw[8:16]), nonceOK
}

// use spends the authentic nonce serial with nonce count nc ("" when the
// client did not use qop, in which case the nonce is good once).
func (s *nonceStore) use(serial uint64, nc string) nonceVerdict {
	count := spentNC
	if nc != "" {
		v, err := strconv.ParseUint(nc, 16, 32)
		if err != nil || len(nc) != 8 || v == 0 || uint32(v) == spentNC {
			return nonceBad
		}
		count = uint32(v)
	}
	i := serial % nonceSlots
	mu := &s.locks[i%uint64(len(s.locks))]
	mu.Lock()
	defer mu.Unlock()
	slot := &s.slots[i]
	switch {
	case slot.serial > serial:
		// A newer nonce took the slot: this one may have been used.
		return nonceStale
	case slot.serial == serial && count <= slot.nc:
		return nonceStale
	}
	slot.serial, slot.nc = serial, count
	return nonceOK
}

// challenge returns the WWW-/Proxy-Authenticate values for realm. MD5
// comes first and SHA-256 (RFC 8760) only when enabled: phones in the
// field (SIPp among them) take the first challenge and know only MD5.
func challenge(realm, nonce string, stale, sha256 bool) []string {
	out := []string{string(appendChallenge(nil, realm, nonce, stale, "MD5"))}
	if sha256 {
		out = append(out, string(appendChallenge(nil, realm, nonce, stale, "SHA-256")))
	}
	return out
}

// challengeAlgorithms are the algorithms challenge offers, in its order.
func challengeAlgorithms(sha256 bool) []string {
	if sha256 {
		return offerBoth[:]
	}
	return offerBoth[:1]
}

var offerBoth = [...]string{"MD5", "SHA-256"}

// appendChallenge appends one challenge value, for algorithm.
func appendChallenge(dst []byte, realm, nonce string, stale bool, algorithm string) []byte {
	dst = append(dst, `Digest realm="`...)
	dst = append(dst, realm...)
	dst = append(dst, `", nonce="`...)
	dst = append(dst, nonce...)
	dst = append(dst, `", qop="auth"`...)
	if stale {
		dst = append(dst, ", stale=true"...)
	}
	dst = append(dst, ", algorithm="...)
	return append(dst, algorithm...)
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
