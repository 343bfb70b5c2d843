package lamps_test

import (
	"testing"

	"go.uber.org/goleak"
)

// As in pbx: nothing a subscription or call starts may outlive the
// server, except sipgo's own UDP reader (see pbx/main_test.go).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}
