package hotdesk

import (
	"testing"

	"go.uber.org/goleak"
)

// Nothing a flow or the auto-logout loop starts may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
