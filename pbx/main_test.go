package pbx

import (
	"testing"

	"go.uber.org/goleak"
)

// Nothing a call starts may outlive it: after every test has stopped its
// server and phones, no goroutine of theirs may be left. The exception is
// a reader sipgo sometimes starts for a UDP socket it opens itself and
// does not close on UserAgent.Close (sipgo v1.7.3); it belongs to sipgo's
// connection pool, not to a call.
func TestMain(m *testing.M) {
	TuneSIPStack() // as the binary does before it serves
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"))
}
