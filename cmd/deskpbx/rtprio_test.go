package main

import (
	"strings"
	"testing"
)

func TestRealtimePriorityFlag(t *testing.T) {
	cfg, err := parseServeFlags(nil)
	if err != nil || cfg.rtPriority != 0 {
		t.Fatalf("default: %v, %v; want 0 (normal scheduling)", cfg, err)
	}
	t.Setenv("DESKPBX_RT_PRIORITY", "10")
	if cfg, err = parseServeFlags(nil); err != nil || cfg.rtPriority != 10 {
		t.Fatalf("DESKPBX_RT_PRIORITY=10: %v, %v", cfg, err)
	}
	for _, bad := range []string{"-1", "100"} {
		if _, err := parseServeFlags([]string{"-rt-priority", bad}); err == nil || !strings.Contains(err.Error(), "rt-priority") {
			t.Errorf("-rt-priority %s: %v, want a usage error", bad, err)
		}
	}
	t.Setenv("DESKPBX_RT_PRIORITY", "high")
	if _, err := parseServeFlags(nil); err == nil || !strings.Contains(err.Error(), "DESKPBX_RT_PRIORITY") {
		t.Errorf("DESKPBX_RT_PRIORITY=high: %v", err)
	}
}
