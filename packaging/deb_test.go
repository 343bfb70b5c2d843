// Package packaging holds the .deb's unit, maintainer scripts and nfpm
// config; its test builds the packages with `make deb` and checks what an
// installation would get, without installing anything on this machine
// (scripts/deb-smoke.sh does that in CI).
package packaging

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// need returns the path of tool, or skips: unless DESKPBX_REQUIRE_PEERS=1
// (CI), where a missing tool is a failure.
func need(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	if os.Getenv("DESKPBX_REQUIRE_PEERS") == "1" {
		t.Fatalf("%s not found (apt-get install it; .ci/run does)", tool)
	}
	t.Skipf("%s not found", tool)
	return ""
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// TestDebPackages builds both packages the way a release does and checks
// each one: the binary is for its architecture and runs (arm64 under
// qemu-user), the unit is sandboxed and passes systemd-analyze verify, the
// settings file is a root-only conffile naming real flags, and the
// maintainer scripts create the user and state directory.
func TestDebPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries and two packages")
	}
	for _, tool := range []string{"make", "dpkg-deb", "aarch64-linux-gnu-gcc", "qemu-aarch64", "systemd-analyze"} {
		need(t, tool)
	}
	dist := t.TempDir()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	run(t, "make", "-C", root, "deb", "DIST="+dist)

	machines := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for arch, machine := range machines {
		t.Run(arch, func(t *testing.T) {
			debs, _ := filepath.Glob(filepath.Join(dist, "deskpbx_*_"+arch+".deb"))
			if len(debs) != 1 {
				t.Fatalf("want one %s package in %s, got %v", arch, dist, debs)
			}
			deb := debs[0]
			if got := strings.TrimSpace(string(run(t, "dpkg-deb", "-f", deb, "Architecture"))); got != arch {
				t.Errorf("Architecture: %q, want %q", got, arch)
			}
			tree := t.TempDir()
			run(t, "dpkg-deb", "-x", deb, tree)
			control := t.TempDir()
			run(t, "dpkg-deb", "-e", deb, control)

			bin := filepath.Join(tree, "usr/bin/deskpbx")
			checkBinary(t, bin, machine)
			checkLibcDepends(t, bin, string(run(t, "dpkg-deb", "-f", deb, "Depends")))
			help := runHelp(t, bin, arch, "help")
			if !strings.Contains(help, "deskpbx is a SIP PBX") || !strings.Contains(help, "healthcheck") {
				t.Errorf("deskpbx help printed:\n%s", help)
			}
			checkUnit(t, tree)
			checkDefaults(t, tree, control, runHelp(t, bin, arch, "serve", "-h"))
			checkScripts(t, control)
		})
	}
}

func checkBinary(t *testing.T, bin string, want elf.Machine) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != want {
		t.Errorf("%s is for %v, want %v", bin, f.Machine, want)
	}
	// SQLite comes in through cgo: a binary built with cgo off would
	// start and fail only at its first database.
	libs, _ := f.ImportedLibraries()
	if !strings.Contains(strings.Join(libs, " "), "libc.so") {
		t.Errorf("%s links %v: not a cgo build", bin, libs)
	}
}

// checkLibcDepends: nfpm does not compute shared-library dependencies, so
// the libc6 version in Depends is written by hand; it must cover the
// newest glibc symbol version the binary needs.
func checkLibcDepends(t *testing.T, bin, depends string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	newest := [2]int{}
	for _, s := range syms {
		v, ok := strings.CutPrefix(s.Version, "GLIBC_")
		if !ok {
			continue
		}
		if mv := majorMinor(v); mv[0] > newest[0] || mv[0] == newest[0] && mv[1] > newest[1] {
			newest = mv
		}
	}
	m := regexp.MustCompile(`libc6 \(>= ([0-9.]+)\)`).FindStringSubmatch(depends)
	if m == nil {
		t.Fatalf("Depends %q names no libc6 version", depends)
	}
	if dep := majorMinor(m[1]); dep[0] < newest[0] || dep[0] == newest[0] && dep[1] < newest[1] {
		t.Errorf("Depends says libc6 >= %s, but the binary needs GLIBC_%d.%d", m[1], newest[0], newest[1])
	}
}

func majorMinor(v string) [2]int {
	major, rest, _ := strings.Cut(v, ".")
	minor, _, _ := strings.Cut(rest, ".")
	a, _ := strconv.Atoi(major)
	b, _ := strconv.Atoi(minor)
	return [2]int{a, b}
}

// runHelp runs the packaged binary, the arm64 one under qemu-user with
// Debian's arm64 libc as its root.
func runHelp(t *testing.T, bin, arch string, args ...string) string {
	t.Helper()
	name := bin
	if arch != hostArch(t) {
		name = "qemu-aarch64"
		args = append([]string{"-L", "/usr/aarch64-linux-gnu", bin}, args...)
	}
	return string(run(t, name, args...))
}

func hostArch(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOHOSTARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// unitKeys reads the [Service] and [Unit] keys of a unit file; a repeated
// key keeps its values space-joined.
func unitKeys(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		keys[k] = strings.TrimSpace(keys[k] + " " + v)
	}
	return keys
}

func checkUnit(t *testing.T, tree string) {
	t.Helper()
	unit := filepath.Join(tree, "usr/lib/systemd/system/deskpbx.service")
	keys := unitKeys(t, unit)
	want := map[string]string{
		"User":                  "deskpbx",
		"Group":                 "deskpbx",
		"ExecStart":             "/usr/bin/deskpbx serve",
		"EnvironmentFile":       "-/etc/default/deskpbx",
		"Environment":           "DESKPBX_DB=/var/lib/deskpbx/deskpbx.db DESKPBX_RT_PRIORITY=10",
		"StateDirectory":        "deskpbx",
		"StateDirectoryMode":    "0750",
		"AmbientCapabilities":   "CAP_NET_BIND_SERVICE",
		"CapabilityBoundingSet": "CAP_NET_BIND_SERVICE",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"Restart":               "on-failure",
		"LimitRTPRIO":           "10",
		"WantedBy":              "multi-user.target",
	}
	for k, v := range want {
		if keys[k] != v {
			t.Errorf("%s=%q, want %q", k, keys[k], v)
		}
	}
	// verify insists that ExecStart exists and is executable: point it at
	// the extracted binary, leaving every other line as packaged.
	data, _ := os.ReadFile(unit)
	copyDir := t.TempDir()
	patched := strings.Replace(string(data), "ExecStart=/usr/bin/deskpbx", "ExecStart="+filepath.Join(tree, "usr/bin/deskpbx"), 1)
	if err := os.WriteFile(filepath.Join(copyDir, "deskpbx.service"), []byte(patched), 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, "systemd-analyze", "verify", filepath.Join(copyDir, "deskpbx.service"))
	// verify exits 0 on unknown keys too, warning only: a warning is a
	// mistake in the unit here.
	if len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify warned:\n%s", out)
	}
}

var defaultVar = regexp.MustCompile(`(?m)^#?(DESKPBX_[A-Z_]+)=`)

// checkDefaults: /etc/default/deskpbx is a conffile (an upgrade keeps the
// admin's edits), root's alone (it may hold secrets such as a metrics
// token), and every variable it documents is one serve knows.
func checkDefaults(t *testing.T, tree, control, serveHelp string) {
	t.Helper()
	path := filepath.Join(tree, "etc/default/deskpbx")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("/etc/default/deskpbx mode %v, want 0600", fi.Mode().Perm())
	}
	conffiles, _ := os.ReadFile(filepath.Join(control, "conffiles"))
	if !strings.Contains(string(conffiles), "/etc/default/deskpbx") {
		t.Errorf("conffiles %q lacks /etc/default/deskpbx", conffiles)
	}
	data, _ := os.ReadFile(path)
	vars := defaultVar.FindAllStringSubmatch(string(data), -1)
	if len(vars) < 5 {
		t.Fatalf("/etc/default/deskpbx documents %d variables:\n%s", len(vars), data)
	}
	for _, m := range vars {
		if !strings.Contains(serveHelp, m[1]) {
			t.Errorf("/etc/default/deskpbx names %s, which deskpbx serve -h does not know", m[1])
		}
	}
}

func checkScripts(t *testing.T, control string) {
	t.Helper()
	want := map[string][]string{
		"postinst": {"useradd --system", "install -d -o deskpbx -g deskpbx -m 0750 /var/lib/deskpbx"},
		"prerm":    {"systemctl stop deskpbx.service"},
		"postrm":   {"daemon-reload"},
	}
	for name, snippets := range want {
		path := filepath.Join(control, name)
		fi, err := os.Stat(path)
		if err != nil {
			t.Errorf("no %s: %v", name, err)
			continue
		}
		if fi.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable (%v)", name, fi.Mode())
		}
		run(t, "sh", "-n", path)
		data, _ := os.ReadFile(path)
		for _, s := range snippets {
			if !strings.Contains(string(data), s) {
				t.Errorf("%s lacks %q", name, s)
			}
		}
		if strings.Contains(string(data), "rm -rf") || strings.Contains(string(data), "userdel") {
			t.Errorf("%s deletes data or the user: the database must outlive the package", name)
		}
	}
}
