package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

const domain = "acme.example"

var (
	alice = user{number: "1001", domain: domain, password: "long-secret-1001", callee: "1002"}
	bob   = user{number: "1002", domain: domain, password: "long-secret-1002"}
)

// newOffice is a database with alice (added with ext add) and bob (with
// ext import), and a server running on it.
func newOffice(t *testing.T) *pbx {
	t.Helper()
	p := newPBX(t, domain)
	p.addExt(domain, alice.number, alice.password)
	p.importExts([][5]string{{domain, bob.number, bob.password, "", "Bob"}})
	p.start()
	return p
}

func TestSIPpRegisterAndCall(t *testing.T) {
	requireSIPp(t)
	p := newOffice(t)

	callee := startCallee(t, p, bob)
	caller := startCaller(t, p, alice, "uac_auth.xml", "-d", "500")
	caller.wait(1)
	callee.wait(1)
	checkSentFromSIPPort(t, p, callee)
	p.stop()
}

// callAfterRestart registers bob, stops and starts the office again
// (same database, same address), and has alice call bob, who does not
// register again: the call reaches him only if his binding survived.
func callAfterRestart(t *testing.T) (*pbx, *sipp) {
	requireSIPp(t)
	p := newOffice(t)
	port := registered(t, p, bob)
	p.stop()
	p.start()
	callee := startSIPp(t, "callee-"+bob.number, "uas.xml", port, "", 1)
	callee.waitListening()
	caller := startCaller(t, p, alice, "uac_auth.xml", "-d", "200")
	caller.wait(1)
	callee.wait(1)
	return p, callee
}

func TestRestartKeepsRegistrations(t *testing.T) {
	p, _ := callAfterRestart(t)
	p.stop()
}

// After a restart deskpbx sends INVITE, ACK and BYE to a restored binding
// from a new socket bound to 0.0.0.0 on an ephemeral port (its Via says
// 127.0.0.1:THATPORT), not from its SIP port: sipgo's connection pool
// only knows a phone's address once a request from it has arrived.
func TestRestartCallsLeaveFromSIPPort(t *testing.T) {
	p, callee := callAfterRestart(t)
	checkSentFromSIPPort(t, p, callee)
	p.stop()
}

// A SIGTERM as soon as the healthcheck passes, on a first start, must
// still give a clean exit.
func TestStopRightAfterHealthcheck(t *testing.T) {
	p := newPBX(t, domain)
	p.startHealthy()
	p.stop() // requires exit status 0
}

func TestGracefulShutdownEndsCalls(t *testing.T) {
	requireSIPp(t)
	p := newOffice(t)

	callee := startCallee(t, p, bob)
	// This caller never hangs up: it waits for the PBX's BYE.
	caller := startCaller(t, p, alice, "uac_auth_wait_bye.xml")
	p.waitLog(60*time.Second, `msg="call answered"`, "caller="+alice.number+"@")

	p.stop() // requires exit status 0
	caller.wait(1)
	callee.wait(1)
}

func TestBadRegistrations(t *testing.T) {
	requireSIPp(t)
	p := newOffice(t)

	refused := []struct {
		name string
		u    user
	}{
		{"wrong password", user{number: alice.number, domain: domain, password: "not-the-password"}},
		{"unknown extension", user{number: "1999", domain: domain, password: alice.password}},
		{"unknown domain", user{number: alice.number, domain: "nowhere.example", password: alice.password}},
		{"another extension's password", user{number: alice.number, domain: domain, password: bob.password}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			inf := writeInf(t, t.TempDir(), "reg.csv", tc.u)
			// register_forbidden.xml takes only a 403: a 200 fails the call.
			s := startSIPp(t, "refused", "register_forbidden.xml", freePort(t), p.sipAddr, 1, "-inf", inf)
			s.wait(1)
		})
	}
	t.Run("right password after failures", func(t *testing.T) {
		register(t, p, alice, freePort(t))
	})
	p.stop()
}

func TestGracefulShutdownCancelsRingingCalls(t *testing.T) {
	requireSIPp(t)
	p := newOffice(t)

	port := registered(t, p, bob)
	callee := startSIPp(t, "callee-"+bob.number, "uas_ring.xml", port, "", 1)
	callee.waitListening()
	ringing := filepath.Join(t.TempDir(), "ringing")
	caller := startCaller(t, p, alice, "uac_auth_ring.xml", "-key", "ringing", ringing)
	waitFile(t, ringing, 60*time.Second)

	// The callee must get a CANCEL, the caller a final failure (503).
	p.stop()
	caller.wait(1)
	callee.wait(1)
}

// waitFile waits until path exists (SIPp creates it from a scenario).
func waitFile(t *testing.T, path string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not created within %v", filepath.Base(path), timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
