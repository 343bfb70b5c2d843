package testclock

import (
	"testing"
	"time"
)

func TestTheClockMovesOnlyWhenMoved(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	c := At(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Fatalf("Now = %v, want %v", got, t0)
	}
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(t0.Add(90 * time.Second)) {
		t.Fatalf("after Advance: %v", got)
	}
	c.Set(t0.Add(time.Hour))
	if got := c.Now(); !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after Set: %v", got)
	}
	var real Clock
	real.Advance(time.Hour)
	if got := real.Now(); got.Before(time.Now().Add(59 * time.Minute)) {
		t.Fatalf("a zero clock advanced by an hour reads %v", got)
	}
}
