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
		if g.failed(fmt.Sprintf("198.51.100.7:%d", 40000+i)) {
			t.Fatalf("blocked after %d failures, want %d", i, authFailLimit)
		}
	}
	if g.blocked("198.51.100.7:5060") {
		t.Fatal("blocked before the limit")
	}
	if !g.failed("198.51.100.7:40000") {
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
		g.failed("198.51.100.9:5060")
	}
	now = now.Add(authFailWindow + time.Second)
	if g.failed("198.51.100.9:5060") {
		t.Fatal("failures from long ago still count")
	}
}
