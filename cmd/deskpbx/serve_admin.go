package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"deskpbx/admin"
	"deskpbx/hotdesk"
	"deskpbx/metrics"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// startAdmin starts the admin web page on cfg.httpAddr (HTTPS with
// -tls-cert and -tls-key), creates the first admin account on the very
// first start, and returns the page's graceful shutdown.
func startAdmin(ctx context.Context, cfg *serveConfig, db *store.DB, srv *pbx.Server, hd *hotdesk.Service, vm *voicemail.Service, m *metrics.Metrics, log *slog.Logger) (func(context.Context) error, error) {
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return nil, usagef("-tls-cert and -tls-key go together: give both for HTTPS, or neither")
	}
	var tlsConfig *tls.Config
	if cfg.tlsCert != "" {
		// Loaded here so a wrong path stops the start with its reason
		// instead of surfacing later in a goroutine's log line.
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("admin TLS: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	proxies, err := admin.ParseTrustedProxies(cfg.trustedProxies)
	if err != nil {
		return nil, usagef("trusted-proxies %q: %v", cfg.trustedProxies, err)
	}
	page, err := admin.New(admin.Config{DB: db, PBX: AdminPBX{srv}, HotDesk: hd, Voicemail: vm, Log: log, TrustedProxies: proxies})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.httpAddr)
	if err != nil {
		page.Close()
		return nil, fmt.Errorf("admin page: %w", err)
	}
	hs := &http.Server{
		Handler:           withMetrics(cfg.metrics, page.Handler(), m, log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	go func() {
		var err error
		if tlsConfig != nil {
			err = hs.ServeTLS(ln, "", "")
		} else {
			err = hs.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin page stopped", "err", err)
		}
	}()
	url := adminURL(ln.Addr(), tlsConfig != nil, srv.ContactIP())
	// Not cancelled by a SIGTERM during the first start: the account is
	// made and its password printed, then the server stops cleanly.
	user, password, created, err := admin.EnsureFirstAdmin(context.WithoutCancel(ctx), db)
	if err != nil {
		hs.Close()
		page.Close()
		return nil, fmt.Errorf("creating the first admin: %w", err)
	}
	if created {
		if err := announceFirstAdmin(os.Stderr, cfg.db, url, user, password, log); err != nil {
			hs.Close()
			page.Close()
			return nil, err
		}
	}
	log.Info("admin page listening", "url", url)
	return func(ctx context.Context) error {
		// Live streams end first, or Shutdown would wait for them.
		page.Close()
		return hs.Shutdown(ctx)
	}, nil
}

// AdminPBX shows a *pbx.Server to the admin page in the page's own terms
// (admin.PBX), so that admin never imports pbx.
type AdminPBX struct{ *pbx.Server }

// Bindings lists the live registrations.
func (p AdminPBX) Bindings() []store.Binding { return p.Location().All() }

// Calls lists the calls in progress, oldest first.
func (p AdminPBX) Calls() []admin.Call {
	infos := p.ActiveCalls()
	out := make([]admin.Call, len(infos))
	for i, c := range infos {
		out[i] = admin.Call{ID: c.ID, CallID: c.CallID, Caller: c.Caller, As: c.As, Callee: c.Callee, Started: c.Started, Answered: c.Answered,
			TransferredBy: c.TransferredBy, TransferredTo: c.TransferredTo, PickedUpBy: c.PickedUpBy}
	}
	return out
}

// adminURL is the address an admin types in: the box's own address when
// listening on all of them.
func adminURL(addr net.Addr, https bool, boxIP string) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = boxIP
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}
