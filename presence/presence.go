// Package presence serves busy lamps: the dialog event package (RFC 4235
// dialog-info, for BLF keys) and the presence event package (RFC 3863
// PIDF with RPID activities, for softphones). The state is the person's:
// it is fed with calls as made or received by an identity, whichever
// phone carries it, so a hot-desker's lamp lights wherever they sit and
// the seat's own extension stays idle.
//
// It imports no pbx: Tracker's packages satisfy pbx.EventPackage by
// their method sets, and the binary turns pbx call events into Update
// calls and hands Changed pbx's Notify.
package presence

import (
	"context"
	"strconv"
	"sync"

	"deskpbx/store"
)

// Event package names, as in the Event header.
const (
	DialogEvent   = "dialog"
	PresenceEvent = "presence"
)

// State is where a call stands for one person.
type State int

// The values match pbx.CallState's, so the binary converts by value.
const (
	Early      State = iota + 1 // ringing
	Confirmed                   // talking
	Terminated                  // over
)

// Call is a change of one call as the person Identity sees it.
type Call struct {
	ID       string // the call's Call-ID
	Identity *store.Extension
	Peer     *store.Extension
	Outgoing bool // Identity placed the call
	State    State
}

// Directory finds the extensions subscribers name; *store.DB is one.
type Directory interface {
	ExtensionByNumber(ctx context.Context, tenantID int64, number string) (*store.Extension, error)
	ExtensionByID(ctx context.Context, id int64) (*store.Extension, error)
}

// Tracker keeps every person's calls and serves them as dialog and
// presence state.
type Tracker struct {
	dir Directory
	// Changed is told each event and resource whose state changed; the
	// binary points it at pbx's Server.Notify. Set it before use.
	Changed func(event, resource string)

	mu     sync.Mutex
	people map[int64]*person
	// known holds the extensions seen in subscriptions and calls, so a
	// NOTIFY to a thousand BLF keys does not read the same row a
	// thousand times (measured: 38% of the CPU of a fan-out). Each new
	// subscription and call refreshes its entry.
	known map[int64]*store.Extension
}

// person is one identity's calls: those in progress, and those that
// ended with the latest change, reported once more as terminated (BLF
// keys want to see the dialog end, not just vanish).
type person struct {
	live  map[string]*dialog
	ended []*dialog
}

type dialog struct {
	id       string
	peer     *store.Extension
	outgoing bool
	state    State
}

// NewTracker returns a tracker that looks extensions up in dir.
func NewTracker(dir Directory) *Tracker {
	return &Tracker{dir: dir, people: make(map[int64]*person), known: make(map[int64]*store.Extension)}
}

// Resource is the name a person's state goes by in subscriptions.
func Resource(ext *store.Extension) string { return strconv.FormatInt(ext.ID, 10) }

// Update records a change in one of a person's calls and reports the
// person's dialog and presence state changed.
func (t *Tracker) Update(_ context.Context, c Call) {
	if c.Identity == nil {
		return
	}
	t.mu.Lock()
	t.known[c.Identity.ID] = c.Identity
	p := t.people[c.Identity.ID]
	if p == nil {
		p = &person{live: make(map[string]*dialog)}
		t.people[c.Identity.ID] = p
	}
	p.ended = nil
	d := p.live[c.ID]
	if d == nil {
		d = &dialog{id: c.ID, peer: c.Peer, outgoing: c.Outgoing}
		p.live[c.ID] = d
	}
	d.state = c.State
	if c.State == Terminated {
		delete(p.live, c.ID)
		p.ended = append(p.ended, d)
	}
	t.mu.Unlock()
	if t.Changed != nil {
		res := Resource(c.Identity)
		t.Changed(DialogEvent, res)
		t.Changed(PresenceEvent, res)
	}
}

// snapshot is a person's dialogs, in progress first, each a copy.
func (t *Tracker) snapshot(id int64) []dialog {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.people[id]
	if p == nil {
		return nil
	}
	out := make([]dialog, 0, len(p.live)+len(p.ended))
	for _, d := range p.live {
		out = append(out, *d)
	}
	for _, d := range p.ended {
		out = append(out, *d)
	}
	return out
}

// authorize resolves target in the subscriber's tenant: another tenant's
// extension is as unknown as a missing one.
func (t *Tracker) authorize(ctx context.Context, subscriber *store.Extension, target string) (string, bool) {
	e, err := t.dir.ExtensionByNumber(ctx, subscriber.TenantID, target)
	if err != nil {
		return "", false
	}
	t.remember(e)
	return Resource(e), true
}

// remember caches e for entity, within a bound.
func (t *Tracker) remember(e *store.Extension) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.known) >= maxKnown {
		clear(t.known)
	}
	t.known[e.ID] = e
}

const maxKnown = 100_000

// entity is the person a resource names, or nil.
func (t *Tracker) entity(ctx context.Context, resource string) *store.Extension {
	id, err := strconv.ParseInt(resource, 10, 64)
	if err != nil {
		return nil
	}
	t.mu.Lock()
	e := t.known[id]
	t.mu.Unlock()
	if e != nil {
		return e
	}
	if e, err = t.dir.ExtensionByID(ctx, id); err != nil {
		return nil
	}
	t.remember(e)
	return e
}

// busy says whether any of ds is ringing or talking.
func busy(ds []dialog) bool {
	for _, d := range ds {
		if d.state != Terminated {
			return true
		}
	}
	return false
}
