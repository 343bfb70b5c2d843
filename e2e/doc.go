// Package e2e runs the deskpbx binary as a subprocess against real SIP
// peers (SIPp) on 127.0.0.1: registration with digest auth, calls through
// the B2BUA, restarts and graceful shutdown. It has only tests:
//
//	go test -race ./e2e/
//
// Tests that need sipp skip when it is missing, unless
// DESKPBX_REQUIRE_PEERS is set (CI), in which case they fail.
// DESKPBX_E2E_RACE=1 also builds the deskpbx binary with -race, so a data
// race in the server fails the test through its exit status.
package e2e
