package webhook

import (
	"encoding/json"

	"deskpbx/store"
)

// Party is an extension as events name it.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain"`
}

// PartyOf describes e; nil gives the zero Party.
func PartyOf(e *store.Extension) Party {
	if e == nil {
		return Party{}
	}
	return Party{Number: e.Number, Name: e.DisplayName, Domain: e.Domain}
}

// MissedCall is the data of call.missed: a call to Callee that nobody
// took.
type MissedCall struct {
	CallID string `json:"call_id"`
	// Caller is who the call was made as (a hot-desker's own number, not
	// the phone's).
	Caller Party `json:"caller"`
	Callee Party `json:"callee"`
	// Reason is "no_answer", "busy" or "cancelled" (the caller hung up
	// while it rang).
	Reason string `json:"reason"`
}

// deliveryID is the envelope's id, sent as a header too so receivers can
// dedupe before parsing.
func deliveryID(body []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &e)
	return e.ID
}
