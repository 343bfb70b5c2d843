package admin

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"deskpbx/internal/netaddr"
)

// ParseTrustedProxies reads a comma-separated list of addresses and
// prefixes (e.g. "127.0.0.1,10.0.0.0/8") of reverse proxies whose
// X-Forwarded-For and X-Forwarded-Proto headers are believed.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) { return netaddr.ParsePrefixes(list) }

// behindProxies makes a request that came through one of the trusted
// proxies look as it did to the proxy: RemoteAddr becomes the client's
// address (the rightmost X-Forwarded-For entry that is not itself a
// trusted proxy, since a client can write anything to the left of what
// its proxy appended), and X-Forwarded-Proto: https marks the request as
// TLS so cookies get Secure and the __Host- prefix, and HSTS is sent.
// From any other address both headers are ignored: anyone could send them.
func behindProxies(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil || !isTrusted(peer.Addr()) {
			next.ServeHTTP(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		client := peer.Addr()
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled hop: stop at the last address we could trust
			}
			client = a.Unmap()
			if !isTrusted(client) {
				break
			}
		}
		r2.RemoteAddr = net.JoinHostPort(client.String(), "0")
		if r.TLS == nil && strings.EqualFold(strings.TrimSpace(lastValue(r.Header.Values("X-Forwarded-Proto"))), "https") {
			r2.TLS = &tls.ConnectionState{}
		}
		next.ServeHTTP(w, r2)
	})
}

// lastValue is the last comma-separated element of a header: the one the
// nearest proxy wrote.
func lastValue(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	v := vals[len(vals)-1]
	return v[strings.LastIndexByte(v, ',')+1:]
}
