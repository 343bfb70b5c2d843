package admin

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

// Voicemail is the voicemail service, the one owner of a mailbox's
// messages and recordings: the page changes them only through here, so
// message-waiting lights hear of every change. *voicemail.Service is one.
type Voicemail interface {
	Messages(ctx context.Context, box *store.Extension) ([]*store.VoicemailMessage, error)
	Message(ctx context.Context, box *store.Extension, id int64) (*store.VoicemailMessage, error)
	Save(ctx context.Context, box *store.Extension, m *store.VoicemailMessage) error
	Delete(ctx context.Context, box *store.Extension, m *store.VoicemailMessage) error
	// SetRecordingWAV stores an uploaded WAV as the greeting or name
	// (store.RecordingGreeting, store.RecordingName), refusing with
	// EINVALID what it cannot convert; SetRecording with nil pcm resets
	// it to the spoken default.
	SetRecordingWAV(ctx context.Context, box *store.Extension, which string, wav []byte) error
	SetRecording(ctx context.Context, box *store.Extension, which string, pcm []int16) error
	Open(file string) (*os.File, error)
}

// The operations of a mailbox's page and API. A mailbox is addressed by
// its extension's ID, so the tenant check of extensionFor covers it, and
// its messages by their ID within it.

// mailbox is the route's extension, if c's admin may see it.
func (s *Server) mailbox(c *call) (*store.Extension, error) {
	return s.extensionFor(c.ctx, c.admin, c.id)
}

// message is the route's {msg} of the route's mailbox.
func (s *Server) message(c *call) (*store.Extension, *store.VoicemailMessage, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(chi.URLParam(c.r, "msg"), 10, 64)
	if err != nil {
		return nil, nil, notFound("message")
	}
	m, err := s.cfg.Voicemail.Message(c.ctx, box, id)
	return box, m, err
}

// recordingKind maps the route's {kind} to the store's column name.
func recordingKind(c *call) (string, error) {
	switch chi.URLParam(c.r, "kind") {
	case "greeting":
		return store.RecordingGreeting, nil
	case "name":
		return store.RecordingName, nil
	}
	return "", notFound("recording")
}

type mailboxView struct {
	Box      *store.Extension
	Settings *store.Mailbox
	Messages []*store.VoicemailMessage
}

func (s *Server) mailboxView(c *call) (*mailboxView, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, err
	}
	v := &mailboxView{Box: box}
	if v.Settings, err = s.db.Mailbox(c.ctx, box.ID); err != nil {
		return nil, err
	}
	v.Messages, err = s.cfg.Voicemail.Messages(c.ctx, box)
	return v, err
}

// mailboxSettings is a change of a mailbox's settings; nil is unchanged.
type mailboxSettings struct {
	Enabled      *bool   `json:"enabled"`
	NoAnswerSecs *int    `json:"no_answer_secs"` // 0: the server's ring timeout
	Email        *string `json:"email"`
}

func (s *Server) setMailbox(c *call, in mailboxSettings) (*mailboxView, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, err
	}
	ch := store.MailboxChange{Enabled: in.Enabled, Email: in.Email}
	if in.NoAnswerSecs != nil {
		d := time.Duration(*in.NoAnswerSecs) * time.Second
		ch.NoAnswer = &d
	}
	if err := s.db.SetMailbox(c.ctx, box.ID, ch); err != nil {
		return nil, err
	}
	s.log.Info("voicemail settings changed", "admin", c.admin.Username, "mailbox", box.AOR())
	return s.mailboxView(c)
}

func (s *Server) resetVoicemailPIN(c *call, pin string) (*store.Extension, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, err
	}
	if err := store.CheckVoicemailPIN(box.Number, pin); err != nil {
		return nil, invalid{"pin": upperFirst(err.Error())}
	}
	if err := s.db.SetVoicemailPIN(c.ctx, box.ID, pin, actor(c.admin)); err != nil {
		return nil, fieldError(err, "pin")
	}
	s.log.Info("voicemail PIN changed", "admin", c.admin.Username, "mailbox", box.AOR())
	return box, nil
}

func (s *Server) deleteMessage(c *call) (*store.Extension, error) {
	box, m, err := s.message(c)
	if err == nil {
		err = s.cfg.Voicemail.Delete(c.ctx, box, m)
	}
	return box, err
}

func (s *Server) markHeard(c *call) (*store.Extension, error) {
	box, m, err := s.message(c)
	if err == nil {
		err = s.cfg.Voicemail.Save(c.ctx, box, m)
	}
	return box, err
}

// maxRecordingBytes bounds an upload: 3 minutes of 16 kHz 16-bit mono
// and its header.
const maxRecordingBytes = 6 << 20

// uploadRecording stores wav as the route's recording of the mailbox.
func (s *Server) uploadRecording(c *call, wav io.Reader) (*store.Extension, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, err
	}
	which, err := recordingKind(c)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(wav, maxRecordingBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecordingBytes {
		return nil, store.Errorf(store.EINVALID, "the file is larger than %d MB", maxRecordingBytes>>20)
	}
	if err := s.cfg.Voicemail.SetRecordingWAV(c.ctx, box, which, b); err != nil {
		return nil, err
	}
	s.log.Info("voicemail recording uploaded", "admin", c.admin.Username, "mailbox", box.AOR(), "which", which)
	return box, nil
}

func (s *Server) resetRecording(c *call) (*store.Extension, error) {
	box, err := s.mailbox(c)
	if err != nil {
		return nil, err
	}
	which, err := recordingKind(c)
	if err == nil {
		err = s.cfg.Voicemail.SetRecording(c.ctx, box, which, nil)
	}
	return box, err
}

// serveFile sends a WAV of the data directory with ranges, which audio
// elements ask for; as an attachment when the request says ?download.
func (s *Server) serveFile(c *call, file, downloadName string, at time.Time) error {
	if file == "" {
		return notFound("recording")
	}
	f, err := s.cfg.Voicemail.Open(file)
	if os.IsNotExist(err) {
		return notFound("recording")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := c.w.Header()
	h.Set("Content-Type", "audio/wav")
	h.Set("Cache-Control", "private, no-store")
	if c.r.URL.Query().Has("download") {
		h.Set("Content-Disposition", `attachment; filename="`+downloadName+`"`)
	}
	http.ServeContent(c.w, c.r, "", at, f)
	return nil
}

func (s *Server) messageAudio(c *call) error {
	box, m, err := s.message(c)
	if err != nil {
		return err
	}
	name := "voicemail-" + box.Number + "-" + m.At.UTC().Format("20060102-150405") + ".wav"
	return s.serveFile(c, m.File, name, m.At)
}

func (s *Server) recordingAudio(c *call) error {
	box, err := s.mailbox(c)
	if err != nil {
		return err
	}
	which, err := recordingKind(c)
	if err != nil {
		return err
	}
	mb, err := s.db.Mailbox(c.ctx, box.ID)
	if err != nil {
		return err
	}
	file := mb.GreetingFile
	if which == store.RecordingName {
		file = mb.NameFile
	}
	return s.serveFile(c, file, chi.URLParam(c.r, "kind")+"-"+box.Number+".wav", time.Time{})
}

// needVoicemail answers not found where voicemail is not wired in.
func (s *Server) needVoicemail(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Voicemail == nil {
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
