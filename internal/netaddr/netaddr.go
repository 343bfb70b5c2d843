// Package netaddr reads the address lists of deskpbx's options (trusted
// proxies, the metrics allow-list), so both accept the same spelling.
package netaddr

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParsePrefixes reads a comma-separated list of addresses and CIDR
// prefixes ("192.0.2.10, 10.1.0.0/16"); an address is a prefix of its
// full length. IPv4-mapped IPv6 addresses are unmapped, as the peers they
// are compared with are.
func ParsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
