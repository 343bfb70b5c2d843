package pbx

import (
	"errors"
	"sort"
	"sync"
	"time"

	"deskpbx/store"
)

// Location is the location service: the live bindings of every
// extension, in memory for speed and written through to SQLite by the
// registrar so a restart loses none.
type Location struct {
	mu    sync.RWMutex
	now   func() time.Time
	byExt map[int64][]store.Binding
}

func newLocation(now func() time.Time) *Location {
	return &Location{now: now, byExt: make(map[int64][]store.Binding)}
}

func (l *Location) restore(bs []store.Binding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range bs {
		l.byExt[b.ExtensionID] = append(l.byExt[b.ExtensionID], b)
	}
}

// Lookup returns the unexpired bindings of an extension, newest first.
func (l *Location) Lookup(extensionID int64) []store.Binding {
	now := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []store.Binding
	for _, b := range l.byExt[extensionID] {
		if b.Expires.After(now) {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Updated.After(out[j].Updated) })
	return out
}

// All returns every unexpired binding.
func (l *Location) All() []store.Binding {
	now := l.now()
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []store.Binding
	for _, bs := range l.byExt {
		for _, b := range bs {
			if b.Expires.After(now) {
				out = append(out, b)
			}
		}
	}
	return out
}

// Count is the number of bindings held, expired ones not yet swept included.
func (l *Location) Count() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, bs := range l.byExt {
		n += len(bs)
	}
	return n
}

var (
	errOutOfOrder      = errors.New("request is older than the binding it would change")
	errTooManyContacts = errors.New("too many contacts for one address of record")
)

const maxContactsPerAOR = 10

// contactUpdate is one Contact of a REGISTER: expires 0 removes it.
type contactUpdate struct {
	binding store.Binding
	remove  bool
	added   bool // set by apply: a contact the AOR did not have (not a refresh)
}

// apply carries out one REGISTER's changes atomically (RFC 3261 §10.3
// steps 7-8): all of them, or none when one is out of order. It returns
// what changed, for the database, and the bindings now current.
func (l *Location) apply(extensionID int64, updates []contactUpdate, removeAll bool, callID string, cseq uint32) (changed []contactUpdate, current []store.Binding, err error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bs := l.byExt[extensionID]
	live := bs[:0:0]
	for _, b := range bs {
		if b.Expires.After(now) {
			live = append(live, b)
		}
	}
	find := func(contact string) int {
		for i, b := range live {
			if b.Contact == contact {
				return i
			}
		}
		return -1
	}
	ordered := func(b store.Binding) bool { return b.CallID != callID || cseq > b.CSeq }
	if removeAll {
		for _, b := range live {
			if !ordered(b) {
				return nil, nil, errOutOfOrder
			}
		}
		for _, b := range live {
			changed = append(changed, contactUpdate{binding: b, remove: true})
		}
		live = nil
	} else {
		for _, u := range updates {
			if i := find(u.binding.Contact); i >= 0 && !ordered(live[i]) {
				return nil, nil, errOutOfOrder
			}
		}
		for _, u := range updates {
			i := find(u.binding.Contact)
			switch {
			case u.remove && i >= 0:
				live = append(live[:i], live[i+1:]...)
				changed = append(changed, u)
			case u.remove:
			case i >= 0:
				live[i] = u.binding
				changed = append(changed, u)
			default:
				if len(live) >= maxContactsPerAOR {
					return nil, nil, errTooManyContacts
				}
				live = append(live, u.binding)
				u.added = true
				changed = append(changed, u)
			}
		}
	}
	if len(live) == 0 {
		delete(l.byExt, extensionID)
	} else {
		l.byExt[extensionID] = live
	}
	return changed, append([]store.Binding(nil), live...), nil
}

// sweep forgets expired bindings.
func (l *Location) sweep() {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, bs := range l.byExt {
		live := bs[:0]
		for _, b := range bs {
			if b.Expires.After(now) {
				live = append(live, b)
			}
		}
		if len(live) == 0 {
			delete(l.byExt, id)
		} else {
			l.byExt[id] = live
		}
	}
}
