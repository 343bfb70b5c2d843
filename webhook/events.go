package webhook

import (
	"encoding/json"
	"strings"
	"time"

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

// PartyOfAOR describes the extension NUMBER@DOMAIN.
func PartyOfAOR(aor string) Party {
	number, domain, _ := strings.Cut(aor, "@")
	return Party{Number: number, Domain: domain}
}

// HotdeskChange is the data of hotdesk.login and hotdesk.logout: Person
// sat down at, or left, the phone Seat.
type HotdeskChange struct {
	Person Party `json:"person"`
	Seat   Party `json:"seat"`
	// A login's MovedFrom is the phone the person left by logging in
	// here; Replaced is whom they unseated (who gets a hotdesk.logout,
	// reason "replaced").
	MovedFrom *Party `json:"moved_from,omitempty"`
	Replaced  *Party `json:"replaced,omitempty"`
	// Reason a session ended: "*073", "force-logout" (an admin),
	// "autologout" or "replaced".
	Reason string `json:"reason,omitempty"`
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

// VoicemailMessage is the data of voicemail.new: Caller left a message
// of Duration in Mailbox at At.
type VoicemailMessage struct {
	Mailbox  Party     `json:"mailbox"`
	Caller   Party     `json:"caller"` // Domain empty: callers may be outside
	At       time.Time `json:"at"`
	Duration float64   `json:"duration_seconds"`
}
