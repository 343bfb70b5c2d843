// Package metricstest checks a scrape with Prometheus's own linter, for
// the tests of metrics and of the binary that serves them.
package metricstest

import (
	"io"
	"net/http"
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

// Get fetches url and fails t unless it answers 200; it returns the body.
func Get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body)
}
