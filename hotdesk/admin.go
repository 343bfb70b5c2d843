package hotdesk

import (
	"context"
	"strconv"
	"time"

	"deskpbx/store"
)

// ForceLogout ends the session of hot-desk ID id, as an admin. It
// returns the ended session, or nil if the person was not seated.
func (s *Service) ForceLogout(ctx context.Context, id, actor string) (*store.HotdeskSession, error) {
	var out *store.HotdeskSession
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		entry, err := tx.Entry(id)
		if err != nil {
			return err
		}
		sess, err := tx.SessionOf(entry.Person.ID)
		if err != nil || sess == nil {
			return err
		}
		out = sess
		return s.end(tx, sess, actor, "force-logout", "logged out by "+actor)
	})
	if err == nil {
		s.ended("force-logout", s.Now(), out)
	}
	return out, err
}

// ForceLogoutAll ends every session whose person or seat belongs to
// tenantID (every session when it is 0), in one transaction, and returns
// how many it ended.
func (s *Service) ForceLogoutAll(ctx context.Context, tenantID int64, actor string) (int, error) {
	var sessions []*store.HotdeskSession
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		var err error
		if sessions, err = tx.Sessions(tenantID); err != nil {
			return err
		}
		for _, sess := range sessions {
			if err := s.end(tx, sess, actor, "force-logout", "everyone logged out by "+actor); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.ended("force-logout", s.Now(), sessions...)
	return len(sessions), nil
}

// end ends sess if it is still live and audits it.
func (s *Service) end(tx *store.HotdeskTx, sess *store.HotdeskSession, actor, action, detail string) error {
	ended, err := tx.EndSessionIf(sess)
	if err != nil || !ended {
		return err
	}
	s.Log.Info("hot-desk session ended", "action", action, "person", sess.Person, "seat", sess.Device, "by", actor)
	return tx.Audit(store.AuditEntry{At: s.Now(), TenantID: sess.PersonTenantID, SeatTenantID: sess.DeviceTenantID,
		Actor: actor, Action: action, Person: sess.Person, Seat: sess.Device, IDTried: sess.HotdeskID,
		Outcome: "ok", Detail: detail})
}

// Unlock lifts the lockout of hot-desk ID id; false if it was not locked.
func (s *Service) Unlock(ctx context.Context, id, actor string) (bool, error) {
	var was bool
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		entry, err := tx.Entry(id)
		if err != nil {
			return err
		}
		if was, err = tx.Unlock(store.LockID, entry.HotdeskID, s.Now()); err != nil || !was {
			return err
		}
		return tx.Audit(store.AuditEntry{At: s.Now(), TenantID: entry.Person.TenantID, Actor: actor, Action: "unlock",
			Person: entry.Person.AOR(), IDTried: entry.HotdeskID, Outcome: "ok", Detail: "ID unlocked by " + actor})
	})
	return was, err
}

// UnlockSeat lifts the lockout of seat's *072/*073; false if it was not locked.
func (s *Service) UnlockSeat(ctx context.Context, seat *store.Extension, actor string) (bool, error) {
	var was bool
	err := s.tx(ctx, func(tx *store.HotdeskTx) error {
		var err error
		if was, err = tx.Unlock(store.LockSeat, strconv.FormatInt(seat.ID, 10), s.Now()); err != nil || !was {
			return err
		}
		return tx.Audit(store.AuditEntry{At: s.Now(), TenantID: seat.TenantID, SeatTenantID: seat.TenantID, Actor: actor,
			Action: "unlock", Seat: seat.AOR(), Outcome: "ok", Detail: "phone unlocked by " + actor})
	})
	return was, err
}

// RunAutoLogout ends sessions that their seat's tenant says are over,
// every AutoLogoutEvery, until ctx ends. It runs once at the start too,
// so a server that was down at the daily time catches up.
func (s *Service) RunAutoLogout(ctx context.Context) {
	t := time.NewTicker(AutoLogoutEvery)
	defer t.Stop()
	for {
		if _, err := s.AutoLogoutOnce(ctx, s.Now()); err != nil && ctx.Err() == nil {
			s.Log.Error("hot-desk auto-logout", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// AutoLogoutOnce ends, as of now, every session that has lasted its seat
// tenant's autologout_after, or began before the last daily autologout_at
// time, and forgets stale lockout state. It returns how many it ended.
// Deciding from "began before the last cut-off" rather than "the clock
// shows HH:MM" means a missed tick or a restart cannot skip a day.
func (s *Service) AutoLogoutOnce(ctx context.Context, now time.Time) (int, error) {
	sessions, err := s.db.HotdeskSessions(ctx, 0)
	if err != nil {
		return 0, err
	}
	type due struct {
		sess   *store.HotdeskSession
		reason string
	}
	var ending []due
	tenants := map[int64]*store.Tenant{}
	for _, sess := range sessions {
		t, ok := tenants[sess.DeviceTenantID]
		if !ok {
			if t, err = s.db.HotdeskTenant(ctx, sess.DeviceTenantID); err != nil {
				return 0, err
			}
			tenants[sess.DeviceTenantID] = t
		}
		if reason := s.autologoutReason(t, sess.Since, now); reason != "" {
			ending = append(ending, due{sess, reason})
		}
	}
	var ended []*store.HotdeskSession
	if len(ending) > 0 {
		// Decided outside the write lock, applied inside it only to
		// sessions that are still the ones seen (EndSessionIf).
		err = s.tx(ctx, func(tx *store.HotdeskTx) error {
			for _, d := range ending {
				ok, err := tx.EndSessionIf(d.sess)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				ended = append(ended, d.sess)
				if err := tx.Audit(store.AuditEntry{At: now, TenantID: d.sess.PersonTenantID, SeatTenantID: d.sess.DeviceTenantID,
					Actor: "system", Action: "autologout", Person: d.sess.Person, Seat: d.sess.Device,
					IDTried: d.sess.HotdeskID, Outcome: "ok", Detail: d.reason}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		if len(ended) > 0 {
			s.ended("autologout", now, ended...)
			s.Log.Info("hot-desk auto-logout", "sessions", len(ended))
		}
	}
	return len(ended), s.db.PruneHotdeskLockout(ctx, now, LockWindow)
}

// autologoutReason says why a session at one of t's phones that began at
// since is over at now, or "" if it is not.
func (s *Service) autologoutReason(t *store.Tenant, since, now time.Time) string {
	if t.AutologoutAfter > 0 && !now.Before(since.Add(t.AutologoutAfter)) {
		return "seated for " + t.AutologoutAfter.String() + " (limit of " + t.Domain + ")"
	}
	if t.AutologoutAt == "" {
		return ""
	}
	h, m, err := store.ParseAutologoutAt(t.AutologoutAt)
	if err != nil {
		return ""
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	local := now.In(loc)
	cut := time.Date(local.Year(), local.Month(), local.Day(), h, m, 0, 0, loc)
	if cut.After(now) {
		cut = time.Date(local.Year(), local.Month(), local.Day()-1, h, m, 0, 0, loc)
	}
	if since.Before(cut) {
		return "daily auto-logout at " + t.AutologoutAt + " of " + t.Domain
	}
	return ""
}
