package pbx

import (
	"context"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// callTable finds calls by either leg's dialog ID.
type callTable struct {
	mu       sync.Mutex
	byDialog map[string]*call
	all      map[*call]struct{}
}

func newCallTable() *callTable {
	return &callTable{byDialog: make(map[string]*call), all: make(map[*call]struct{})}
}

func (t *callTable) add(c *call, dialogID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.byDialog[dialogID] = c
	t.all[c] = struct{}{}
}

func (t *callTable) remove(c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, v := range t.byDialog {
		if v == c {
			delete(t.byDialog, id)
		}
	}
	delete(t.all, c)
}

// match finds the call an in-dialog request belongs to and says whether
// it came from the A side (the caller).
func (t *callTable) match(req *sip.Request) (c *call, fromA bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if c := t.byDialog[id]; c != nil {
			return c, true
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if c := t.byDialog[id]; c != nil {
			return c, false
		}
	}
	return nil, false
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
