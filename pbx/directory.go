package pbx

import (
	"context"
	"strings"
	"sync"

	"deskpbx/store"
)

// directory keeps the credentials that every REGISTER and INVITE is
// checked against in memory: a query per request was a quarter of the
// registrar's CPU. It is dropped whole when the database's directory
// generation moves (any tenant or extension change, from this process,
// the CLI or the admin page), which refresh checks a few times a second.
type directory struct {
	db *store.DB

	mu         sync.RWMutex
	generation int64
	exts       map[string]*store.Extension // "domain\x00number" -> extension
	defaultTen *store.Tenant
}

// maxCachedExtensions bounds the map; past it the cache starts over.
const maxCachedExtensions = 100_000

func newDirectory(db *store.DB) *directory {
	d := &directory{db: db, exts: make(map[string]*store.Extension)}
	d.generation, _ = db.DirectoryGeneration(context.Background())
	return d
}

// lookup is store.LookupExtension through the cache. Misses are not
// remembered, so an extension added a moment ago is found at once.
func (d *directory) lookup(ctx context.Context, domain, number string) (*store.Extension, error) {
	d.mu.RLock()
	e, ok := d.exts[strings.ToLower(domain)+"\x00"+number]
	d.mu.RUnlock()
	if ok {
		return e, nil
	}
	return d.reload(ctx, domain, number)
}

// reload reads one extension from the database and caches it.
func (d *directory) reload(ctx context.Context, domain, number string) (*store.Extension, error) {
	key := strings.ToLower(domain) + "\x00" + number
	d.mu.RLock()
	gen := d.generation
	d.mu.RUnlock()
	e, err := d.db.LookupExtension(ctx, domain, number)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	// Only keep what was read under the generation still current.
	if d.generation == gen {
		if len(d.exts) >= maxCachedExtensions {
			d.exts = make(map[string]*store.Extension)
		}
		d.exts[key] = e
	}
	d.mu.Unlock()
	return e, nil
}

// defaultTenant is the tenant of IP-addressed requests.
func (d *directory) defaultTenant(ctx context.Context) (*store.Tenant, error) {
	d.mu.RLock()
	t, gen := d.defaultTen, d.generation
	d.mu.RUnlock()
	if t != nil {
		return t, nil
	}
	t, err := d.db.DefaultTenant(ctx)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if d.generation == gen {
		d.defaultTen = t
	}
	d.mu.Unlock()
	return t, nil
}

// cachedDefaultTenant is the default tenant if the cache holds it, else
// nil, for callers that must not wait on the database.
func (d *directory) cachedDefaultTenant() *store.Tenant {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.defaultTen
}

// refresh drops the cache if the directory changed since it was filled.
func (d *directory) refresh(ctx context.Context) error {
	gen, err := d.db.DirectoryGeneration(ctx)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if gen != d.generation {
		d.generation = gen
		d.exts = make(map[string]*store.Extension)
		d.defaultTen = nil
	}
	d.mu.Unlock()
	return nil
}
