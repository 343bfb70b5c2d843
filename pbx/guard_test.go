package pbx

import (
	"fmt"
	"testing"
	"time"
)

func TestAuthGuardBlocksAGuessingAddressForAWhile(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	g := newAuthGuard(func() time.Time { return now })
	for i := 1; i < authFailLimit; i++ {
		if blocked(g.failed(fmt.Sprintf("198.51.100.7:%d", 40000+i), 0)) {
			t.Fatalf("blocked after %d failures, want %d", i, authFailLimit)
		}
	}
	if g.blocked("198.51.100.7:5060") {
		t.Fatal("blocked before the limit")
	}
	if !blocked(g.failed("198.51.100.7:40000", 0)) {
		t.Fatal("the failure that reaches the limit did not block")
	}
	if !g.blocked("198.51.100.7:5070") {
		t.Fatal("a blocked address gets through from another port")
	}
	if g.blocked("198.51.100.8:5060") {
		t.Fatal("another address is blocked too")
	}
	now = now.Add(authFailWindow + time.Second)
	if g.blocked("198.51.100.7:5060") {
		t.Fatal("still blocked after the block ended")
	}
	g.sweep()
	if len(g.bySrc) != 0 {
		t.Fatalf("%d entries left after sweeping expired ones", len(g.bySrc))
	}
}

func TestAuthGuardForgetsOldFailures(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	g := newAuthGuard(func() time.Time { return now })
	for i := 0; i < authFailLimit-1; i++ {
		g.failed("198.51.100.9:5060", 0)
	}
	now = now.Add(authFailWindow + time.Second)
	if blocked(g.failed("198.51.100.9:5060", 0)) {
		t.Fatal("failures from long ago still count")
	}
}

func blocked(src, _ bool) bool { return src }

func TestHostOfGroupsIPv6By64(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"[2001:db8:1:2::1]:5060", "[2001:db8:1:2:ffff::9]:5070"},
		{"[::ffff:192.0.2.1]:5060", "192.0.2.1:5070"},
	} {
		if hostOf(c.a) != hostOf(c.b) {
			t.Errorf("%s and %s are keyed apart: %s, %s", c.a, c.b, hostOf(c.a), hostOf(c.b))
		}
	}
	if hostOf("[2001:db8:1:2::1]:5060") == hostOf("[2001:db8:1:3::1]:5060") {
		t.Error("two /64s share a key")
	}
	if hostOf("192.0.2.1:5060") == hostOf("192.0.2.2:5060") {
		t.Error("two IPv4 addresses share a key")
	}
}
