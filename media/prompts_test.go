package media

import "deskpbx/sounds"

// projectPrompts returns the project's own prompts for the talk-off tests:
// everything the PBX itself says to callers must never read as a digit.
func projectPrompts() map[string][]byte {
	m := map[string][]byte{}
	for _, n := range sounds.Names() {
		m[n] = sounds.Ulaw(n)
	}
	return m
}
