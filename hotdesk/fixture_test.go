package hotdesk

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/testclock"
	"deskpbx/store"
)

// office is a small multi-tenant PBX in a real SQLite file: acme.example
// with extensions 1001-1009 (voicemail PIN 4826 on 1001-1004) and
// beta.example with 2001-2003, plus a clock the test moves by hand.
type office struct {
	tb  testing.TB
	ctx context.Context
	db  *store.DB
	s   *Service
	now *testclock.Clock
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newOffice(tb testing.TB) *office {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "deskpbx.db")
	db, err := store.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	o := &office{tb: tb, ctx: context.Background(), db: db, now: testclock.At(t0)}
	for _, d := range []string{"acme.example", "beta.example"} {
		if _, err := db.CreateTenant(o.ctx, d, "", false); err != nil {
			tb.Fatal(err)
		}
	}
	var rows []store.NewExtension
	for n := 1001; n <= 1009; n++ {
		x := store.NewExtension{Domain: "acme.example", Number: strconv.Itoa(n), Password: "secret-" + strconv.Itoa(n)}
		if n <= 1004 {
			x.PIN = "4826"
		}
		rows = append(rows, x)
	}
	for n := 2001; n <= 2003; n++ {
		rows = append(rows, store.NewExtension{Domain: "beta.example", Number: strconv.Itoa(n), Password: "secret-" + strconv.Itoa(n), PIN: "4826"})
	}
	if err := db.ImportExtensions(o.ctx, rows); err != nil {
		tb.Fatal(err)
	}
	o.s = o.service(db)
	return o
}

func (o *office) service(db *store.DB) *Service {
	s := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Now = o.now.Now
	s.Location = time.UTC
	db.Now = o.now.Now
	return s
}

// restart closes the database and opens it again under a new service,
// as a restarted server does.
func (o *office) restart() {
	o.tb.Helper()
	path := o.db.Path()
	o.db.Close()
	db, err := store.Open(path)
	if err != nil {
		o.tb.Fatal(err)
	}
	o.tb.Cleanup(func() { db.Close() })
	o.db, o.s = db, o.service(db)
}

// ext returns extension NUMBER@DOMAIN ("1003" means acme.example).
func (o *office) ext(aor string) *store.Extension {
	o.tb.Helper()
	number, domain := aor, "acme.example"
	if n, d, ok := strings.Cut(aor, "@"); ok {
		number, domain = n, d
	}
	e, err := o.db.LookupExtension(o.ctx, domain, number)
	if err != nil {
		o.tb.Fatal(err)
	}
	return e
}

// hotdesker gives extension aor the hot-desk ID id and, if pin is not
// empty, its own password.
func (o *office) hotdesker(aor, id, pin string) *store.Extension {
	o.tb.Helper()
	e := o.ext(aor)
	if _, err := o.db.CreateHotdeskEntry(o.ctx, store.NewHotdeskEntry{Domain: e.Domain, Number: e.Number, HotdeskID: id, PIN: pin}, "test"); err != nil {
		o.tb.Fatal(err)
	}
	return e
}

func (o *office) settings(domain string, s store.HotdeskSettings) {
	o.tb.Helper()
	if _, err := o.db.SetTenantHotdesk(o.ctx, domain, s, "test"); err != nil {
		o.tb.Fatal(err)
	}
}

// whoIsAt is the AOR of the person seated at the phone aor, or "".
func (o *office) whoIsAt(aor string) string {
	if p, ok := o.s.PersonAt(o.ctx, o.ext(aor)); ok {
		return p.AOR()
	}
	return ""
}

// ringsAt is the AOR whose phones ring for calls to person aor, or "".
func (o *office) ringsAt(aor string) string {
	if d, ok := o.s.RingTarget(o.ctx, o.ext(aor)); ok {
		return d.AOR()
	}
	return ""
}

func (o *office) login(id, pin, seat string) (*Seated, error) {
	return o.s.Login(o.ctx, id, pin, o.ext(seat), "192.0.2.10:5060")
}

func (o *office) mustLogin(id, pin, seat string) *Seated {
	o.tb.Helper()
	res, err := o.login(id, pin, seat)
	if err != nil {
		o.tb.Fatalf("login %s at %s: %v", id, seat, err)
	}
	return res
}

func (o *office) audit() []store.AuditEntry {
	o.tb.Helper()
	rows, err := o.db.HotdeskAudit(o.ctx, 0, 100000)
	if err != nil {
		o.tb.Fatal(err)
	}
	return rows
}

// actions lists the audit actions, oldest first, of rows matching keep.
func (o *office) actions(keep func(store.AuditEntry) bool) []string {
	rows := o.audit()
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		if keep == nil || keep(rows[i]) {
			out = append(out, rows[i].Action+"/"+rows[i].Outcome)
		}
	}
	return out
}

func (o *office) sessions() []*store.HotdeskSession {
	o.tb.Helper()
	ss, err := o.db.HotdeskSessions(o.ctx, 0)
	if err != nil {
		o.tb.Fatal(err)
	}
	return ss
}

func ptr[T any](v T) *T { return &v }
