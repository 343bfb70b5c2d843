// Package admin is deskpbx's web page and JSON API for admins: tenants,
// extensions, hot desking, live registrations and calls. Pages are
// rendered on the server from embedded templates; a little plain
// JavaScript keeps the live tables current over Server-Sent Events.
package admin

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"deskpbx/store"
)

//go:embed all:templates static
var assets embed.FS

// PBX is the live side the page shows and acts on, in the page's own
// terms: the binary adapts its *pbx.Server to it (cmd/deskpbx), so this
// package never builds against the SIP stack.
type PBX interface {
	// Bindings lists the live registrations.
	Bindings() []store.Binding
	// Calls lists the calls in progress, oldest first.
	Calls() []Call
	// Hangup ends call id; false if there is no such call.
	Hangup(ctx context.Context, id string) bool
}

// Call is one call in progress.
type Call struct {
	// ID is an opaque handle of the call, for Hangup. Not the Call-ID:
	// a caller chooses that, and could copy another tenant's.
	ID       string
	CallID   string // the caller's Call-ID, for the log
	Caller   string // AOR of the phone that placed the call
	As       string // AOR the call is made as (differs when hot-desking)
	Callee   string // AOR called, or the feature code dialled
	Started  time.Time
	Answered time.Time // zero while ringing
	// TransferredBy handed the call to TransferredTo; PickedUpBy answered
	// it from another phone while it rang (AORs, empty if not).
	TransferredBy, TransferredTo, PickedUpBy string
}

// Config is what the binary decides for the admin page.
type Config struct {
	DB  *store.DB
	PBX PBX
	// HotDesk is the hot-desk service; nil hides the hot-desk pages.
	HotDesk HotDesk
	Log     *slog.Logger

	// Voicemail is the voicemail service; nil hides the mailbox pages.
	Voicemail Voicemail

	// IdleTimeout ends a browser session nobody used for this long
	// (default 30 min); MaxSessionAge ends any session (default 12 h).
	IdleTimeout, MaxSessionAge time.Duration
	// LiveInterval is how often live tables are checked for changes
	// (default 1 s).
	LiveInterval time.Duration
	// Login limits: after UserFailures failed logins for one username, or
	// IPFailures from one client address, within LockWindow, logins for it
	// are refused for LockWindow (defaults 5, 20, 15 min).
	UserFailures, IPFailures int
	LockWindow               time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see behindProxies); none by default.
	TrustedProxies []netip.Prefix
}

func (c *Config) setDefaults() {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.MaxSessionAge == 0 {
		c.MaxSessionAge = 12 * time.Hour
	}
	if c.LiveInterval == 0 {
		c.LiveInterval = time.Second
	}
	if c.UserFailures == 0 {
		c.UserFailures = 5
	}
	if c.IPFailures == 0 {
		c.IPFailures = 20
	}
	if c.LockWindow == 0 {
		c.LockWindow = 15 * time.Minute
	}
}

// Server is the admin page and API.
type Server struct {
	cfg     Config
	db      *store.DB
	pbx     PBX
	hotdesk HotDesk
	log     *slog.Logger
	pages   map[string]*pageTemplate
	limiter *limiter
	handler http.Handler

	// done ends the live streams and the session sweeper: an http.Server
	// shutdown waits for open streams, which never go idle on their own.
	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// New builds the admin server; Close stops its background work.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	s := &Server{
		cfg:     cfg,
		db:      cfg.DB,
		pbx:     cfg.PBX,
		hotdesk: cfg.HotDesk,
		log:     cfg.Log,
		done:    make(chan struct{}),
	}
	s.limiter = newLimiter(cfg.DB.Now, cfg.UserFailures, cfg.IPFailures, cfg.LockWindow)
	var err error
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	s.handler = behindProxies(cfg.TrustedProxies, s.routes())
	s.wg.Add(1)
	go s.sweep()
	return s, nil
}

// Handler serves the page, the API, static assets and /healthz.
func (s *Server) Handler() http.Handler { return s.handler }

// Close ends live streams and background work.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	s.wg.Wait()
}

func (s *Server) sweep() {
	defer s.wg.Done()
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		if _, err := s.db.DeleteExpiredAdminSessions(context.Background(), s.cfg.IdleTimeout, s.cfg.MaxSessionAge); err != nil {
			s.log.Warn("sweeping admin sessions", "err", err)
		}
		s.limiter.sweep()
	}
}

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	r.Use(securityHeaders)
	r.Get("/healthz", s.healthz)
	static, _ := fs.Sub(assets, "static")
	r.Handle("/static/*", http.StripPrefix("/static/", staticHandler(static)))

	r.Route("/api/v1", s.apiRoutes)

	r.Group(func(r chi.Router) {
		// Defence in depth beside the CSRF tokens: browsers mark
		// cross-site requests, and those never change anything here.
		r.Use(http.NewCrossOriginProtection().Handler)
		r.Get("/login", s.loginPage)
		r.Post("/login", s.login)
		r.Group(func(r chi.Router) {
			r.Use(s.requireSession, auditAs)
			r.Post("/logout", s.logout)
			r.Get("/", s.page(s.dashboardPage))
			r.Get("/events", s.events)

			r.Get("/tenants", s.page(s.tenantsPage))
			r.Post("/tenants", s.page(s.tenantCreate))
			r.Get("/tenants/{id}", s.page(s.tenantPage))
			r.Post("/tenants/{id}", s.page(s.tenantUpdate))
			r.Post("/tenants/{id}/delete", s.page(s.tenantDelete))

			r.Get("/extensions", s.page(s.extensionsPage))
			r.Get("/extensions/new", s.page(s.extensionNewPage))
			r.Post("/extensions", s.page(s.extensionCreate))
			r.Get("/extensions/import", s.page(s.importPage))
			r.Post("/extensions/import", s.page(s.importExtensions))
			r.Get("/extensions/export.csv", s.page(s.exportExtensions))
			r.Get("/extensions/{id}", s.page(s.extensionPage))
			r.Post("/extensions/{id}", s.page(s.extensionUpdate))
			r.Post("/extensions/{id}/delete", s.page(s.extensionDelete))
			s.voicemailRoutes(r)

			r.Group(func(r chi.Router) {
				r.Use(s.needHotdesk)
				r.Get("/hotdesk", s.page(s.hotdeskPage))
				r.Get("/hotdesk/new", s.page(s.hotdeskNewPage))
				r.Post("/hotdesk", s.page(s.hotdeskCreate))
				r.Post("/hotdesk/logout-all", s.page(s.hotdeskLogoutAll))
				r.Get("/hotdesk/{id}", s.page(s.hotdeskEditPage))
				r.Post("/hotdesk/{id}", s.page(s.hotdeskUpdate))
				r.Post("/hotdesk/{id}/delete", s.page(s.hotdeskDelete))
				r.Post("/hotdesk/{id}/logout", s.page(s.hotdeskForceLogout))
				r.Post("/hotdesk/{id}/unlock", s.page(s.hotdeskUnlock))
				r.Post("/hotdesk/seats/{id}/unlock", s.page(s.hotdeskSeatUnlock))
				r.Get("/audit", s.page(s.auditPage))
			})

			r.Get("/registrations", s.livePage("registrations", "Registrations"))
			r.Get("/calls", s.livePage("calls", "Active calls"))
			r.Post("/calls/hangup", s.page(s.callHangup))

			r.Get("/admins", s.page(s.adminsPage))
			r.Post("/admins", s.page(s.adminCreate))
			r.Post("/admins/{id}/delete", s.page(s.adminDelete))

			r.Get("/account", s.page(s.accountPage))
			r.Post("/account/password", s.page(s.accountPassword))
			r.Post("/account/tokens", s.page(s.tokenCreate))
			r.Post("/account/tokens/{id}/delete", s.page(s.tokenDelete))
		})
	})
	r.NotFound(s.notFound)
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	})
	return r
}

// needHotdesk answers not found where hot desking is not wired in.
func (s *Server) needHotdesk(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hotdesk == nil {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				apiError(w, http.StatusNotFound, store.ENOTFOUND, "hot desking is not available", "")
				return
			}
			s.notFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the page from running anything but its own
// script file, from being framed, and browsers from guessing types.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func staticHandler(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Asset URLs carry a content hash (see assetURL), so they can be
		// cached for long.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.db.DataVersion(ctx); err != nil {
		http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}
