package pbx

import (
	"context"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// callTable finds calls, and the party within, by any leg's dialog ID.
type callTable struct {
	mu       sync.Mutex
	byDialog map[string]partyOf
	all      map[*call]struct{}
}

// partyOf is the call a dialog belongs to and whose dialog it is.
type partyOf struct {
	c *call
	p *party
}

func newCallTable() *callTable {
	return &callTable{byDialog: make(map[string]partyOf), all: make(map[*call]struct{})}
}

func (t *callTable) add(c *call, p *party) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byDialog[p.leg.dialogID()] = partyOf{c, p}
	t.all[c] = struct{}{}
}

func (t *callTable) remove(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, v := range t.byDialog {
		if v.c == c {
			delete(t.byDialog, id)
		}
	}
	delete(t.all, c)
}

// match finds the call an in-dialog request belongs to and says whether
// it came from the caller's own dialog (the A-leg).
func (t *callTable) match(req *sip.Request) (c *call, fromA bool) {
	c, p := t.matchParty(req)
	return c, c != nil && p.leg == partyLeg(c.a)
}

// matchParty finds the call an in-dialog request belongs to and the
// party that sent it (which may have left the call since, by transfer).
func (t *callTable) matchParty(req *sip.Request) (*call, *party) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if v, ok := t.byDialog[id]; ok {
			return v.c, v.p
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if v, ok := t.byDialog[id]; ok {
			return v.c, v.p
		}
	}
	return nil, nil
}

// byDialogID finds the call and party of one of our dialogs, as a
// Replaces header names it (RFC 3891).
func (t *callTable) byDialogID(id string) (*call, *party) {
	t.mu.Lock()
	defer t.mu.Unlock()
	v := t.byDialog[id]
	return v.c, v.p
}

func (t *callTable) snapshot() []*call {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*call, 0, len(t.all))
	for c := range t.all {
		out = append(out, c)
	}
	return out
}

func (t *callTable) hangupAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range t.snapshot() {
		wg.Add(1)
		go func() { defer wg.Done(); c.hangup(ctx) }()
	}
	wg.Wait()
}
