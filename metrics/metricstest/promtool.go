// Package metricstest checks a scrape with Prometheus's own linter, for
// the tests of metrics and of the binary that serves them.
package metricstest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// PromtoolCheck runs `promtool check metrics` (Debian package prometheus)
// on a scrape and fails t on any problem it reports. Skipped without
// promtool, unless DESKPBX_REQUIRE_PEERS=1.
func PromtoolCheck(t testing.TB, body string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		if os.Getenv("DESKPBX_REQUIRE_PEERS") == "1" {
			t.Fatal("promtool not found: apt-get install prometheus")
		}
		t.Skip("promtool not found (apt-get install prometheus)")
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
