package admin

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"deskpbx/store"
)

// The audit log: hot-desk events and admin changes, each written by
// store in the transaction of the change it records.

// actor is how an admin appears in the audit log.
func actor(a *store.Admin) string { return "admin:" + a.Username }

// record puts an event that changes nothing in the database (a call hung
// up) in the audit log. Changes to the database are audited by store, in
// their own transaction (see auditAs).
func (s *Server) record(ctx context.Context, a *store.Admin, tenantID int64, what, detail string) {
	err := s.db.RecordAudit(context.WithoutCancel(ctx), store.AuditEntry{
		TenantID: tenantID, Actor: actor(a), Action: "admin-change", Outcome: what, Detail: detail})
	if err != nil {
		s.log.Error("writing the audit log", "err", err, "change", what, "detail", detail)
	}
}

// auditAs names the logged-in admin as the actor of every change the
// request makes, so store writes each change's audit row in the change's
// own transaction.
func auditAs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if me := whoFrom(r.Context()); me != nil {
			r = r.WithContext(store.WithActor(r.Context(), actor(me.admin)))
		}
		next.ServeHTTP(w, r)
	})
}

// auditFilter reads the filter of the page and the API from the query.
func (s *Server) auditFilter(c *call) (store.AuditFilter, error) {
	q := c.r.URL.Query()
	scope, err := s.scopeTenant(c.ctx, c.admin, tenantParam(c.r))
	if err != nil {
		return store.AuditFilter{}, err
	}
	f := store.AuditFilter{TenantID: scope, Action: q.Get("action"), Outcome: q.Get("outcome"), Text: strings.TrimSpace(q.Get("q"))}
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	if d, err := time.ParseInLocation("2006-01-02", q.Get("from"), time.Local); err == nil {
		f.Since = d
	}
	if d, err := time.ParseInLocation("2006-01-02", q.Get("to"), time.Local); err == nil {
		f.Until = d.AddDate(0, 0, 1)
	}
	return f, nil
}

type auditData struct {
	Entries   []store.AuditEntry
	More      bool
	Tenants   []*store.Tenant
	Actions   []string
	Outcomes  []string
	Filter    url.Values
	NextURL   template.URL // older entries, same filter
	NewestURL template.URL // back to the first page, same filter
	First     bool
}

const auditPageSize = 50

func (s *Server) auditPage(c *call) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	entries, more, err := s.db.AuditLog(c.ctx, f, auditPageSize)
	if err != nil {
		return err
	}
	d := auditData{Entries: entries, More: more, Filter: c.r.URL.Query(), First: f.Before == 0}
	if d.Actions, d.Outcomes, err = s.db.AuditValues(c.ctx, f.TenantID); err != nil {
		return err
	}
	if c.admin.System() {
		if d.Tenants, err = s.db.Tenants(c.ctx); err != nil {
			return err
		}
	}
	// Built here, already encoded: html/template would escape the & and
	// = of a query string given to it as text.
	q := c.r.URL.Query()
	q.Del("before")
	d.NewestURL = template.URL("/audit?" + q.Encode())
	if more && len(entries) > 0 {
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		d.NextURL = template.URL("/audit?" + q.Encode())
	}
	s.render(c.w, c.r, http.StatusOK, "audit", &page{Title: "Audit log", Nav: "audit", D: d})
	return nil
}

type apiAuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Person  string    `json:"person,omitempty"`
	Seat    string    `json:"seat,omitempty"`
	Source  string    `json:"source,omitempty"`
	IDTried string    `json:"id_tried,omitempty"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// apiAudit pages with ?before=ID (the "next_before" of the previous page).
func (s *Server) apiAudit(c *call) error {
	f, err := s.auditFilter(c)
	if err != nil {
		return err
	}
	limit, _ := strconv.Atoi(c.r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	entries, more, err := s.db.AuditLog(c.ctx, f, limit)
	if err != nil {
		return err
	}
	out := struct {
		Entries    []apiAuditEntry `json:"entries"`
		NextBefore int64           `json:"next_before,omitempty"`
	}{Entries: make([]apiAuditEntry, len(entries))}
	for i, a := range entries {
		out.Entries[i] = apiAuditEntry{ID: a.ID, At: a.At, Actor: a.Actor, Action: a.Action, Person: a.Person, Seat: a.Seat,
			Source: a.Source, IDTried: a.IDTried, Outcome: a.Outcome, Detail: a.Detail}
	}
	if more {
		out.NextBefore = entries[len(entries)-1].ID
	}
	return c.json(http.StatusOK, out)
}
