package voicemail

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"deskpbx/media"
	"deskpbx/sounds"
	"deskpbx/store"
)

// Menu timing and limits.
const (
	MaxTries    = 3
	MenuTimeout = 10 * time.Second
	KeyTimeout  = 5 * time.Second
)

// Listen is *97: the mailbox of whoever the phone is now (identity: the
// person hot-desked at it, else its own extension), after their PIN.
// phone is the phone's own registered extension, for the lockout.
func (s *Service) Listen(ctx context.Context, c Call, identity, phone *store.Extension, source string) {
	s.listen(ctx, c, phone, source, func(ctx context.Context) (*store.Extension, string, bool) {
		return identity, identity.Number, true
	})
}

// ListenAsk is *98: it asks for a mailbox number of identity's tenant
// first, then its PIN.
func (s *Service) ListenAsk(ctx context.Context, c Call, identity, phone *store.Extension, source string) {
	s.listen(ctx, c, phone, source, func(ctx context.Context) (*store.Extension, string, bool) {
		if c.Play(ctx, sounds.Ulaw(sounds.VMEnterMailbox)) != nil {
			return nil, "", false
		}
		number, err := c.Collect(ctx, 15, '#', MenuTimeout, KeyTimeout)
		if err != nil && !errors.Is(err, media.ErrNoInput) {
			return nil, "", false
		}
		box, err := s.db.ExtensionByNumber(ctx, identity.TenantID, number)
		if err != nil {
			box = nil // refused like a wrong PIN, after the PIN is asked
		}
		return box, number, true
	})
}

// listen runs up to MaxTries of mailbox and PIN, then the menu.
func (s *Service) listen(ctx context.Context, c Call, phone *store.Extension, source string,
	which func(context.Context) (*store.Extension, string, bool)) {
	defer c.Hangup()
	for try := 1; try <= MaxTries; try++ {
		box, tried, ok := which(ctx)
		if !ok || c.Play(ctx, sounds.Ulaw(sounds.VMEnterPIN)) != nil {
			return
		}
		pin, err := c.Collect(ctx, 15, '#', MenuTimeout, KeyTimeout)
		if err != nil && !errors.Is(err, media.ErrNoInput) {
			return
		}
		err = s.Authenticate(context.WithoutCancel(ctx), box, tried, pin, phone, source)
		switch {
		case err == nil:
			m := &menu{s: s, c: c, box: box, log: s.Log.With("mailbox", box.AOR(), "phone", phone.AOR())}
			m.run(ctx)
			return
		case errors.Is(err, ErrInvalid):
			if c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMInvalid)) != nil {
				return
			}
		default:
			s.Log.Error("voicemail login", "err", err)
			c.PlayNoBarge(ctx, sounds.Ulaw(sounds.Goodbye))
			return
		}
	}
	c.PlayNoBarge(ctx, sounds.Ulaw(sounds.TooMany))
}

// menu is one mailbox open at a phone.
type menu struct {
	s    *Service
	c    Call
	box  *store.Extension
	log  *slog.Logger
	msgs []*store.VoicemailMessage
}

// errExit is '#': leave the mailbox.
var errExit = errors.New("exit")

func (m *menu) run(ctx context.Context) {
	if m.counts(ctx) != nil {
		return
	}
	for misses := 0; misses < MaxTries; {
		key, err := m.ask(ctx, sounds.VMMainMenu)
		if err != nil {
			return
		}
		switch key {
		case "":
			misses++
			continue
		case "1":
			err = m.messages(ctx)
		case "0":
			err = m.options(ctx)
		case "*":
			err = m.c.Play(ctx, sounds.Ulaw(sounds.VMMainMenu), sounds.Ulaw(sounds.VMMessageMenu))
		case "#":
			err = errExit
		default:
			err = m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMInvalidOption))
		}
		if err != nil {
			break
		}
		misses = 0
	}
	m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.Goodbye))
}

// ask plays a prompt and waits for one key: "" if none came.
func (m *menu) ask(ctx context.Context, prompt string) (string, error) {
	if err := m.c.Play(ctx, sounds.Ulaw(prompt)); err != nil {
		return "", err
	}
	key, err := m.c.Collect(ctx, 1, 0, MenuTimeout, 0)
	if errors.Is(err, media.ErrNoInput) {
		return "", nil
	}
	return key, err
}

// counts says "You have N new and M saved messages".
func (m *menu) counts(ctx context.Context) error {
	n, saved, err := m.s.Counts(ctx, m.box)
	if err != nil {
		return err
	}
	if n+saved == 0 {
		return m.c.Play(ctx, sounds.Ulaw(sounds.VMNoMessages))
	}
	p := [][]byte{sounds.Ulaw(sounds.VMYouHave)}
	p = append(p, sounds.Number(strconv.Itoa(n))...)
	p = append(p, sounds.Ulaw(sounds.VMNew), sounds.Ulaw(sounds.VMAnd))
	p = append(p, sounds.Number(strconv.Itoa(saved))...)
	p = append(p, sounds.Ulaw(sounds.VMSaved), sounds.Ulaw(sounds.VMMessages))
	return m.c.Play(ctx, p...)
}

// messages plays the messages, new first, and takes the keys Asterisk
// and FusionPBX users know: 5 repeat, 6 next, 4 previous, 7 delete,
// 9 save, 0 options, * help, # exit. A key pressed during a message acts
// at once. Returning nil goes back to the main menu.
func (m *menu) messages(ctx context.Context) error {
	var err error
	if m.msgs, err = m.s.Messages(ctx, m.box); err != nil {
		return err
	}
	if len(m.msgs) == 0 {
		return m.c.Play(ctx, sounds.Ulaw(sounds.VMNoMessages))
	}
	i, play, misses := 0, true, 0
	for misses < MaxTries {
		if play {
			if err := m.play(ctx, i); err != nil {
				return err
			}
		}
		play = false
		key, err := m.c.Collect(ctx, 1, 0, time.Millisecond, 0)
		if key == "" && err == nil || errors.Is(err, media.ErrNoInput) {
			key, err = m.ask(ctx, sounds.VMMessageMenu)
		}
		if err != nil {
			return err
		}
		switch key {
		case "":
			misses++
			continue
		case "5":
			play = true
		case "6", "4":
			step := 1
			if key == "4" {
				step = -1
			}
			if j := i + step; j >= 0 && j < len(m.msgs) {
				i, play = j, true
			} else if err := m.edge(ctx, step); err != nil {
				return err
			}
		case "7":
			if err := m.s.Delete(ctx, m.box, m.msgs[i]); err != nil {
				return err
			}
			m.msgs = append(m.msgs[:i], m.msgs[i+1:]...)
			if err := m.c.Play(ctx, sounds.Ulaw(sounds.VMDeleted)); err != nil {
				return err
			}
			if len(m.msgs) == 0 {
				return m.c.Play(ctx, sounds.Ulaw(sounds.VMNoMore))
			}
			i, play = min(i, len(m.msgs)-1), true
		case "9":
			if err := m.s.Save(ctx, m.box, m.msgs[i]); err != nil {
				return err
			}
			if err := m.c.Play(ctx, sounds.Ulaw(sounds.VMMessageKept)); err != nil {
				return err
			}
			if i+1 < len(m.msgs) {
				i, play = i+1, true
			}
		case "0":
			if err := m.options(ctx); err != nil {
				return err
			}
		case "*":
			if err := m.c.Play(ctx, sounds.Ulaw(sounds.VMMessageMenu)); err != nil {
				return err
			}
		case "#":
			return errExit
		default:
			if err := m.c.PlayNoBarge(ctx, sounds.Ulaw(sounds.VMInvalidOption)); err != nil {
				return err
			}
		}
		misses = 0
	}
	return errExit
}

func (m *menu) edge(ctx context.Context, step int) error {
	if step > 0 {
		return m.c.Play(ctx, sounds.Ulaw(sounds.VMNoMore))
	}
	return m.c.Play(ctx, sounds.Ulaw(sounds.VMFirst))
}

// play says the envelope of message i (its number, when, from whom) and
// plays it; a new message is moved to saved as it starts to play (or is
// skipped with a key), as Asterisk moves a played message out of INBOX.
func (m *menu) play(ctx context.Context, i int) error {
	msg := m.msgs[i]
	pcm, err := m.s.Audio(msg.File)
	if err != nil {
		m.log.Error("voicemail: message audio unreadable", "file", msg.File, "err", err)
		return err
	}
	p := [][]byte{sounds.Ulaw(sounds.VMMessage)}
	p = append(p, sounds.Number(strconv.Itoa(i+1))...)
	p = append(p, m.s.when(msg.At)...)
	if msg.CallerNumber != "" {
		p = append(p, sounds.Ulaw(sounds.VMFrom))
		p = append(p, sounds.Number(msg.CallerNumber)...)
	} else {
		p = append(p, sounds.Ulaw(sounds.VMUnknownCaller))
	}
	if err := m.c.Play(ctx, p...); err != nil {
		return err
	}
	if msg.Folder == store.FolderNew {
		// Heard once it starts: a caller who hangs up halfway knows of it.
		if err := m.s.Save(context.WithoutCancel(ctx), m.box, msg); err != nil {
			return err
		}
	}
	return m.c.Play(ctx, ulaw(pcm))
}

// when is "received today at 1 4 0 5", "yesterday", or the weekday-less
// date as digits (day, month) for older messages.
func (s *Service) when(at time.Time) [][]byte {
	now := s.db.Now().In(time.Local)
	at = at.In(time.Local)
	p := [][]byte{sounds.Ulaw(sounds.VMReceived)}
	y1, m1, d1 := now.Date()
	today := time.Date(y1, m1, d1, 0, 0, 0, 0, time.Local)
	switch {
	case !at.Before(today):
		p = append(p, sounds.Ulaw(sounds.VMToday))
	case !at.Before(today.AddDate(0, 0, -1)):
		p = append(p, sounds.Ulaw(sounds.VMYesterday))
	default:
		p = append(p, sounds.Number(at.Format("0102"))...)
	}
	p = append(p, sounds.Ulaw(sounds.VMAt))
	return append(p, sounds.Number(at.Format("1504"))...)
}
