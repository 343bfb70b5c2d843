// Package voicemail is deskpbx's mailboxes: leaving a message when
// nobody answers, *97/*98 to listen, and the files and rows behind them.
// It reaches a call only through the small Call interface below, which
// pbx's feature calls provide; the dial plan decides which calls reach it.
// It never imports pbx or admin.
package voicemail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"deskpbx/media"
	"deskpbx/store"
)

// Call is what a voicemail flow sees of the call it answers.
type Call interface {
	// Play plays µ-law prompts; a key press stops it and is kept for
	// the next Collect. It returns an error once the call has ended.
	Play(ctx context.Context, prompts ...[]byte) error
	// PlayNoBarge plays prompts to the end whatever is pressed.
	PlayNoBarge(ctx context.Context, prompts ...[]byte) error
	// Collect gathers keys (see hotdesk.Call); an error only once the
	// call has ended.
	Collect(ctx context.Context, max int, terminator rune, firstDigit, interDigit time.Duration) (string, error)
	// Record records the caller (see media.Session.Record).
	Record(ctx context.Context, lim media.RecordLimits) ([]int16, media.RecordEnd)
	// Hangup ends the call from the PBX side.
	Hangup()
}

// Defaults of a mailbox.
const (
	DefaultLimit  = 100             // messages a mailbox holds
	DefaultMaxLen = 3 * time.Minute // of one message
	MinLen        = time.Second     // shorter messages are dropped
	SilenceEnd    = 5 * time.Second // of silence ends a message
)

// Service is the office's mailboxes: rows in the database, audio in Dir.
type Service struct {
	db  *store.DB
	Dir string
	Log *slog.Logger

	Limit  int           // messages per mailbox
	MaxLen time.Duration // of one message

	// OnChange, if set, is told each time a mailbox's messages change (a
	// message left, heard, saved or deleted), e.g. to send message-waiting
	// NOTIFYs. It runs on the caller's goroutine and must not block.
	OnChange func(box *store.Extension)
	// OnNewMessage, if set, is told of each message deposited (not of
	// other changes), e.g. for the voicemail.new webhook or e-mail. It
	// runs on the depositing call's goroutine and must not block long.
	OnNewMessage func(box *store.Extension, m store.VoicemailMessage)
}

// New opens the mailboxes of db with their audio in dir (created 0700),
// and sweeps what a crash may have left: files no row names are removed
// and rows whose file is gone are dropped, so every listed message has
// its audio.
func New(ctx context.Context, db *store.DB, dir string, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("voicemail data directory: %w", err)
	}
	s := &Service{db: db, Dir: dir, Log: log, Limit: DefaultLimit, MaxLen: DefaultMaxLen}
	if err := s.sweep(ctx); err != nil {
		return nil, fmt.Errorf("voicemail sweep of %s: %w", dir, err)
	}
	return s, nil
}

func (s *Service) sweep(ctx context.Context) error {
	listed, err := s.db.VoicemailFiles(ctx)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !ours(name) {
			continue
		}
		if listed[name] {
			present[name] = true
			continue
		}
		if err := os.Remove(filepath.Join(s.Dir, name)); err != nil {
			return err
		}
		s.Log.Warn("voicemail: removed a file no message names (left by a crash)", "file", name)
	}
	n, err := s.db.DropVoicemailRowsWithout(ctx, func(f string) bool { return !present[f] })
	if n > 0 {
		s.Log.Warn("voicemail: dropped messages whose audio file is gone", "count", n)
	}
	return err
}

// ours is whether name is a file this package writes, so a sweep never
// touches anything else an admin put in the directory.
func ours(name string) bool {
	return strings.HasPrefix(name, "vm-") && strings.HasSuffix(name, ".wav")
}

// newFileName is unique without asking the disk: mailbox, time, random.
func newFileName(box *store.Extension, kind string, at time.Time) string {
	r := make([]byte, 4)
	rand.Read(r)
	return fmt.Sprintf("vm-%d-%s-%s-%d-%s.wav", box.TenantID, box.Number, kind, at.UnixMilli(), hex.EncodeToString(r))
}

// Caller is who left a message.
type Caller struct {
	Number, Name string
}

// ErrTooShort is Deposit's answer for a message under MinLen: dropped.
var ErrTooShort = errors.New("voicemail: message too short")

// Full reports whether box holds its limit of messages already.
func (s *Service) Full(ctx context.Context, box *store.Extension) (bool, error) {
	n, saved, err := s.db.VoicemailCounts(ctx, box.ID)
	return n+saved >= s.Limit, err
}

// Deposit stores a message left in box: the file first, made durable,
// then its row. A crash between the two leaves a file no row names,
// which the next start removes; never a listed message without audio.
func (s *Service) Deposit(ctx context.Context, box *store.Extension, from Caller, pcm []int16) (*store.VoicemailMessage, error) {
	d := time.Duration(len(pcm)) * time.Second / sampleRate
	if d < MinLen {
		return nil, ErrTooShort
	}
	if full, err := s.Full(ctx, box); err != nil || full {
		return nil, errors.Join(err, fullErr(full))
	}
	at := s.db.Now()
	name := newFileName(box, "msg", at)
	if err := writeDurable(s.Dir, name, encodeWAV(pcm)); err != nil {
		return nil, err
	}
	m, err := s.db.AddVoicemail(ctx, store.NewVoicemail{ExtensionID: box.ID, CallerNumber: from.Number,
		CallerName: from.Name, At: at, Duration: d, File: name}, s.Limit)
	if err != nil {
		os.Remove(filepath.Join(s.Dir, name))
		return nil, err
	}
	s.Log.Info("voicemail left", "mailbox", box.AOR(), "from", from.Number, "duration", d.Round(100*time.Millisecond), "file", name)
	s.changed(box)
	if s.OnNewMessage != nil {
		s.OnNewMessage(box, *m)
	}
	return m, nil
}

func fullErr(full bool) error {
	if full {
		return store.ErrMailboxFull
	}
	return nil
}

func (s *Service) changed(box *store.Extension) {
	if s.OnChange != nil {
		s.OnChange(box)
	}
}

// Counts is how many new and saved messages box holds, for
// message-waiting indications.
func (s *Service) Counts(ctx context.Context, box *store.Extension) (newCount, saved int, err error) {
	return s.db.VoicemailCounts(ctx, box.ID)
}

// Messages lists box's messages, new first, each folder oldest first.
func (s *Service) Messages(ctx context.Context, box *store.Extension) ([]*store.VoicemailMessage, error) {
	return s.db.VoicemailMessages(ctx, box.ID)
}

// Audio returns a message's (or greeting's) samples.
func (s *Service) Audio(file string) ([]int16, error) {
	b, err := readFile(s.Dir, file)
	if err != nil {
		return nil, err
	}
	return DecodeWAV(b)
}

// Save moves a message to the saved folder.
func (s *Service) Save(ctx context.Context, box *store.Extension, m *store.VoicemailMessage) error {
	if m.Folder == store.FolderSaved {
		return nil
	}
	if err := s.db.SetVoicemailFolder(ctx, box.ID, m.ID, store.FolderSaved); err != nil {
		return err
	}
	m.Folder = store.FolderSaved
	s.changed(box)
	return nil
}

// Delete removes a message: row first, then file (see Deposit).
func (s *Service) Delete(ctx context.Context, box *store.Extension, m *store.VoicemailMessage) error {
	if err := s.db.DeleteVoicemail(ctx, box.ID, m.ID); err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(s.Dir, m.File)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.Log.Warn("voicemail: deleted message's file not removed (the next start sweeps it)", "file", m.File, "err", err)
	}
	s.Log.Info("voicemail deleted", "mailbox", box.AOR(), "message", m.ID)
	s.changed(box)
	return nil
}

// SetRecording stores box's greeting or name (store.RecordingGreeting or
// store.RecordingName); nil pcm goes back to the spoken default.
func (s *Service) SetRecording(ctx context.Context, box *store.Extension, which string, pcm []int16) error {
	name := ""
	if pcm != nil {
		name = newFileName(box, strings.TrimSuffix(which, "_file"), s.db.Now())
		if err := writeDurable(s.Dir, name, encodeWAV(pcm)); err != nil {
			return err
		}
	}
	old, err := s.db.SetMailboxRecording(ctx, box.ID, which, name)
	if err != nil {
		if name != "" {
			os.Remove(filepath.Join(s.Dir, name))
		}
		return err
	}
	if old != "" {
		os.Remove(filepath.Join(s.Dir, old))
	}
	return nil
}

// mailboxKey is a lockout key for an extension's row.
func mailboxKey(e *store.Extension) string { return strconv.FormatInt(e.ID, 10) }
