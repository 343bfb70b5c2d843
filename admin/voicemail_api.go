package admin

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// apiVoicemailRoutes are a mailbox's API, under its extension.
func (s *Server) apiVoicemailRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.needVoicemail)
		r.Get("/extensions/{id}/voicemail", s.api(s.apiMailbox))
		r.Patch("/extensions/{id}/voicemail", s.api(s.apiMailboxUpdate))
		r.Put("/extensions/{id}/voicemail/pin", s.api(s.apiVoicemailPIN))
		r.Get("/extensions/{id}/voicemail/messages/{msg}/audio", s.api(s.messageAudio))
		r.Post("/extensions/{id}/voicemail/messages/{msg}/heard", s.api(s.apiVoicemailHeard))
		r.Delete("/extensions/{id}/voicemail/messages/{msg}", s.api(s.apiVoicemailDelete))
		r.Get("/extensions/{id}/voicemail/{kind}/audio", s.api(s.recordingAudio))
		r.Put("/extensions/{id}/voicemail/{kind}", s.api(s.apiRecordingUpload))
		r.Delete("/extensions/{id}/voicemail/{kind}", s.api(s.apiRecordingReset))
		apiSMTPRoutes(s, r)
	})
}

type apiMessage struct {
	ID           int64     `json:"id"`
	Folder       string    `json:"folder"`
	CallerNumber string    `json:"caller_number"`
	CallerName   string    `json:"caller_name,omitempty"`
	At           time.Time `json:"at"`
	DurationSecs float64   `json:"duration_seconds"`
}

type apiMailbox struct {
	ExtensionID  int64        `json:"extension_id"`
	Enabled      bool         `json:"enabled"`
	NoAnswerSecs int          `json:"no_answer_secs"`
	Email        string       `json:"email"`
	Greeting     bool         `json:"greeting_recorded"`
	Name         bool         `json:"name_recorded"`
	HasPIN       bool         `json:"has_pin"`
	Messages     []apiMessage `json:"messages"`
}

func toAPIMailbox(v *mailboxView) apiMailbox {
	out := apiMailbox{ExtensionID: v.Box.ID, Enabled: v.Settings.Enabled, NoAnswerSecs: int(v.Settings.NoAnswer / time.Second),
		Email: v.Settings.Email, Greeting: v.Settings.GreetingFile != "", Name: v.Settings.NameFile != "",
		HasPIN: v.Box.PINHash != "", Messages: []apiMessage{}}
	for _, m := range v.Messages {
		out.Messages = append(out.Messages, apiMessage{ID: m.ID, Folder: m.Folder, CallerNumber: m.CallerNumber,
			CallerName: m.CallerName, At: m.At.UTC(), DurationSecs: m.Duration.Seconds()})
	}
	return out
}

func (s *Server) apiMailbox(c *call) error {
	v, err := s.mailboxView(c)
	return answer(c, http.StatusOK, v, err, toAPIMailbox)
}

func (s *Server) apiMailboxUpdate(c *call) error {
	if _, err := s.mailbox(c); err != nil {
		return err
	}
	return decoded(c, http.StatusOK, s.setMailbox, toAPIMailbox)
}

func (s *Server) apiVoicemailPIN(c *call) error {
	if _, err := s.mailbox(c); err != nil {
		return err
	}
	var in struct {
		PIN string `json:"pin"`
	}
	if err := c.decode(&in); err != nil {
		return err
	}
	_, err := s.resetVoicemailPIN(c, in.PIN)
	return c.done(err)
}

func (s *Server) apiVoicemailHeard(c *call) error {
	_, err := s.markHeard(c)
	return c.done(err)
}

func (s *Server) apiVoicemailDelete(c *call) error {
	_, err := s.deleteMessage(c)
	return c.done(err)
}

// apiRecordingUpload takes the WAV file as the request body.
func (s *Server) apiRecordingUpload(c *call) error {
	_, err := s.uploadRecording(c, c.r.Body)
	return c.done(err)
}

func (s *Server) apiRecordingReset(c *call) error {
	_, err := s.resetRecording(c)
	return c.done(err)
}
