package netaddr

import (
	"net/netip"
	"slices"
	"testing"
)

func TestAddressesAndPrefixesReadAlike(t *testing.T) {
	got, err := ParsePrefixes(" 10.1.2.3/16, 192.0.2.10 ,,::ffff:198.51.100.7, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("198.51.100.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if !slices.Equal(got, want) {
		t.Fatalf("ParsePrefixes = %v, want %v", got, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "10.0.0.1;10.0.0.2"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}
