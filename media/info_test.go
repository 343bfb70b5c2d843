package media

import "testing"

func TestParseINFO(t *testing.T) {
	cases := []struct {
		ct, body string
		want     rune
		ok       bool
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5', true},
		{"application/dtmf-relay", "Signal= #\r\nDuration= 250\r\n", '#', true},
		{"Application/DTMF-Relay; charset=utf-8", "signal=*\nduration=100\n", '*', true},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160\r\n", '#', true},
		{"application/dtmf-relay", "Signal=d\r\n", 'D', true},
		{"application/dtmf-relay", "Signal=16\r\nDuration=2000\r\n", 0, false}, // flash
		{"application/dtmf-relay", "Duration=160\r\n", 0, false},
		{"application/dtmf", "5", '5', true},
		{"application/dtmf", " 0\r\n", '0', true},
		{"application/dtmf", "10", '*', true},
		{"application/dtmf", "x", 0, false},
		{"application/dtmf", "", 0, false},
		{"text/plain", "5", 0, false},
		{"", "Signal=5", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseINFO(c.ct, []byte(c.body))
		if got != c.want || ok != c.ok {
			t.Errorf("ParseINFO(%q, %q) = %q %v, want %q %v", c.ct, c.body, got, ok, c.want, c.ok)
		}
	}
}
