package metrics

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"deskpbx/internal/netaddr"
)

// Access decides who may scrape. Loopback always may: a local Prometheus
// or curl needs nothing. Another address may if it is in Allow, or if it
// presents Token as a bearer token.
type Access struct {
	Token string
	Allow []netip.Prefix
}

// ParseAllow reads a comma-separated list of addresses and CIDR prefixes
// ("192.0.2.10, 10.1.0.0/16").
func ParseAllow(s string) ([]netip.Prefix, error) { return netaddr.ParsePrefixes(s) }

// Wrap lets through only the scrapes Access allows: 401 with a token
// configured (the scraper may present one), 403 otherwise.
func (a Access) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.allowed(r) {
			h.ServeHTTP(w, r)
			return
		}
		if a.Token != "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="deskpbx metrics"`)
			http.Error(w, "metrics: a bearer token is needed from this address", http.StatusUnauthorized)
			return
		}
		http.Error(w, "metrics: open to loopback and the allow-list only", http.StatusForbidden)
	})
}

func (a Access) allowed(r *http.Request) bool {
	// The peer's own address: a forwarded-for header is whatever the
	// client says, so it grants nothing.
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	if addr.IsLoopback() {
		return true
	}
	for _, p := range a.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	if a.Token == "" {
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) == 1
}
