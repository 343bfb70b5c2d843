package metrics

import "testing"

// What counting costs one digest REGISTER: the challenged request, its
// 401, the authenticated request and its 200.
func BenchmarkRegisterCounts(b *testing.B) {
	m := New(Sources{})
	b.ReportAllocs()
	for b.Loop() {
		m.SIPRequest("REGISTER")
		m.SIPResponse("REGISTER", 401)
		m.SIPRequest("REGISTER")
		m.SIPResponse("REGISTER", 200)
	}
}
