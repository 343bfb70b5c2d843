package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

// voicemailRoutes are a mailbox's pages, beside its extension's.
func (s *Server) voicemailRoutes(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(s.needVoicemail)
		r.Get("/extensions/{id}/voicemail", s.page(s.voicemailPage))
		r.Post("/extensions/{id}/voicemail", s.page(s.voicemailSettings))
		r.Post("/extensions/{id}/voicemail/pin", s.page(s.voicemailPIN))
		r.Get("/extensions/{id}/voicemail/messages/{msg}/audio", s.page(s.messageAudio))
		r.Post("/extensions/{id}/voicemail/messages/{msg}/heard", s.page(s.voicemailHeard))
		r.Post("/extensions/{id}/voicemail/messages/{msg}/delete", s.page(s.voicemailDelete))
		r.Get("/extensions/{id}/voicemail/{kind}/audio", s.page(s.recordingAudio))
		r.Post("/extensions/{id}/voicemail/{kind}", s.page(s.voicemailUpload))
		r.Post("/extensions/{id}/voicemail/{kind}/reset", s.page(s.voicemailReset))
		smtpRoutes(s, r)
	})
}

type voicemailData struct {
	*mailboxView
	// Forms by section: settings, pin, greeting, name; the one posted
	// carries its errors.
	Forms map[string]*form
}

func (s *Server) renderVoicemail(c *call, status int, posted string, f *form) error {
	v, err := s.mailboxView(c)
	if err != nil {
		return err
	}
	forms := map[string]*form{"settings": newForm(nil), "pin": newForm(nil), "greeting": newForm(nil), "name": newForm(nil)}
	st := v.Settings
	forms["settings"].set("email", st.Email)
	if st.Enabled {
		forms["settings"].set("enabled", "on")
	}
	if st.NoAnswer > 0 {
		forms["settings"].set("no_answer", strconv.Itoa(int(st.NoAnswer/time.Second)))
	}
	if f != nil {
		forms[posted] = f
	}
	s.render(c.w, c.r, status, "voicemail", &page{Title: "Voicemail of " + v.Box.AOR(), Nav: "extensions",
		D: voicemailData{mailboxView: v, Forms: forms}})
	return nil
}

func (s *Server) voicemailPage(c *call) error { return s.renderVoicemail(c, http.StatusOK, "", nil) }

func (c *call) backToMailbox(flash string) error {
	return c.redirect(fmt.Sprintf("/extensions/%d/voicemail", c.id), flash)
}

func (s *Server) voicemailSettings(c *call) error {
	f := newForm(c.r)
	enabled := f.Values["enabled"] != ""
	email := f.Values["email"]
	in := mailboxSettings{Enabled: &enabled, Email: &email}
	secs := 0
	if raw := strings.TrimSpace(f.Values["no_answer"]); raw != "" {
		var err error
		if secs, err = strconv.Atoi(raw); err != nil {
			f.Errors["no_answer"] = "Seconds, as a whole number"
			return s.renderVoicemail(c, http.StatusUnprocessableEntity, "settings", f)
		}
	}
	in.NoAnswerSecs = &secs
	if _, err := s.setMailbox(c, in); err != nil {
		return c.refused(f, err, func(status int) error { return s.renderVoicemail(c, status, "settings", f) })
	}
	return c.backToMailbox("Voicemail settings saved.")
}

func (s *Server) voicemailPIN(c *call) error {
	f := newForm(c.r)
	if _, err := s.resetVoicemailPIN(c, f.Values["pin"]); err != nil {
		return c.refused(f, err, func(status int) error { return s.renderVoicemail(c, status, "pin", f) })
	}
	return c.backToMailbox("Voicemail PIN changed.")
}

func (s *Server) voicemailHeard(c *call) error {
	if _, err := s.markHeard(c); err != nil {
		return err
	}
	return c.backToMailbox("Message marked as heard.")
}

func (s *Server) voicemailDelete(c *call) error {
	if _, err := s.deleteMessage(c); err != nil {
		return err
	}
	return c.backToMailbox("Message deleted.")
}

func (s *Server) voicemailUpload(c *call) error {
	kind := chi.URLParam(c.r, "kind")
	if _, err := recordingKind(c); err != nil {
		return err
	}
	f := newForm(nil)
	file, _, err := c.r.FormFile("file")
	if err != nil {
		f.Message = "Choose a WAV file to upload."
		return s.renderVoicemail(c, http.StatusUnprocessableEntity, kind, f)
	}
	defer file.Close()
	if _, err := s.uploadRecording(c, file); err != nil {
		return c.refused(f, err, func(status int) error { return s.renderVoicemail(c, status, kind, f) })
	}
	return c.backToMailbox(upperFirst(kind) + " uploaded.")
}

func (s *Server) voicemailReset(c *call) error {
	if _, err := s.resetRecording(c); err != nil {
		return err
	}
	return c.backToMailbox(upperFirst(chi.URLParam(c.r, "kind")) + " reset to the spoken default.")
}
