// Package hotdesk lets a person sit down at any phone and make it theirs:
// *072 logs in with a hot-desk ID and password, *073 logs out, and while
// seated the person's calls ring that phone and calls from it are made as
// the person. It holds the rules (which secret counts, lockouts, moves and
// replacements, auto-logout) on top of store's queries, and talks to a
// phone call only through the small Call interface that pbx provides.
package hotdesk

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"deskpbx/store"
)

// The guessing defence: failures allowed per window before a lockout, per
// ID, per seat (phone), per login secret (a company PIN counts once for
// all the IDs that log in with it) and per tenant. Unknown IDs count
// against the seat and the seat's tenant. See seatBudget for why these.
const (
	IDAttempts     = 5
	SeatAttempts   = 10
	SecretAttempts = 20
	TenantAttempts = 50
	LockWindow     = 15 * time.Minute // failures older than this are forgotten
	LockFor        = 15 * time.Minute

	// AutoLogoutEvery is how often RunAutoLogout looks for sessions to end.
	AutoLogoutEvery = 30 * time.Second
)

var (
	// ErrInvalid is every refusal of an ID and password: wrong, unknown,
	// without a secret, or locked out, so a caller cannot tell which.
	ErrInvalid = errors.New("hot-desk ID or password is not valid")
	// ErrNotEnabled: hot desking is switched off for the seat's tenant.
	ErrNotEnabled = errors.New("hot desking is not enabled at this phone")
)

// Service applies the hot-desk rules to the database. It is safe for
// concurrent use; every call of pbx asks it who sits where.
type Service struct {
	db *store.DB

	// Now is the clock of every rule (session start, lockouts,
	// auto-logout), so tests can move time.
	Now func() time.Time
	// Location is the zone of the tenants' daily auto-logout time; nil
	// means the server's local zone.
	Location *time.Location
	Log      *slog.Logger

	latency   latencyRecorder
	metrics   Metrics
	onSession []func(SessionEvent)
	// writing queues this process's hot-desk transactions in Go, which
	// wakes the next one as soon as the lock is free, rather than in
	// SQLite's busy handler, which retries after sleeps of 1 to 100 ms.
	writing sync.Mutex
}

// tx runs fn in one hot-desk transaction, queued behind this process's others.
func (s *Service) tx(ctx context.Context, fn func(*store.HotdeskTx) error) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	return s.db.HotdeskTx(ctx, fn)
}

// New returns a Service over db; log may be nil.
func New(db *store.DB, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, Now: time.Now, Log: log, metrics: noMetrics{}}
}

// PersonAt returns who is seated at the phone registered as device: the
// identity calls from that phone are made as. One indexed query.
func (s *Service) PersonAt(ctx context.Context, device *store.Extension) (*store.Extension, bool) {
	p, err := s.db.PersonAt(ctx, device.ID)
	// Routing the call as the phone itself beats failing it.
	return s.found(p, err, "hot-desk seat lookup failed", "device", device)
}

// RingTarget returns the extension whose registered phones ring for calls to
// a seated person: the dial string (the seat, or an admin's override).
// One indexed query.
func (s *Service) RingTarget(ctx context.Context, person *store.Extension) (*store.Extension, bool) {
	e, err := s.db.RingTarget(ctx, person.ID)
	return s.found(e, err, "hot-desk dial string lookup failed", "person", person)
}

// found is the answer of a per-call lookup: a failed one is logged and
// reads as "none", so the call goes on as if nobody were hot-desking.
func (s *Service) found(e *store.Extension, err error, msg, key string, about *store.Extension) (*store.Extension, bool) {
	if err != nil {
		s.Log.Error(msg, key, about.AOR(), "err", err)
		return nil, false
	}
	return e, e != nil
}

// LatencyStats summarises the time from a caller's final '#' to the
// login's commit, over the most recent logins.
type LatencyStats struct {
	Count         int // logins recorded since start
	P50, P99, Max time.Duration
}

// Stats returns the login latency of LoginFlow.
func (s *Service) Stats() LatencyStats { return s.latency.stats() }

// latencyRecorder keeps the last len(ring) samples: enough for a stable
// p99, bounded memory however long the server runs.
type latencyRecorder struct {
	mu    sync.Mutex
	ring  [4096]time.Duration
	count int
}

func (r *latencyRecorder) add(d time.Duration) {
	r.mu.Lock()
	r.ring[r.count%len(r.ring)] = d
	r.count++
	r.mu.Unlock()
}

func (r *latencyRecorder) stats() LatencyStats {
	r.mu.Lock()
	n := min(r.count, len(r.ring))
	xs := append([]time.Duration(nil), r.ring[:n]...)
	st := LatencyStats{Count: r.count}
	r.mu.Unlock()
	return summarise(st, xs)
}

func summarise(st LatencyStats, xs []time.Duration) LatencyStats {
	if len(xs) == 0 {
		return st
	}
	slices.Sort(xs)
	at := func(q float64) time.Duration { return xs[min(len(xs)-1, int(q*float64(len(xs))))] }
	st.P50, st.P99, st.Max = at(0.50), at(0.99), xs[len(xs)-1]
	return st
}
