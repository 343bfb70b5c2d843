package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"deskpbx/media"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// serveConfig is the server's configuration: flags, each with a
// DESKPBX_* environment twin that sets its default.
type serveConfig struct {
	db             string
	dataDir        string // voicemail audio; default dataDirFor(db)
	sipAddr        string
	httpAddr       string
	rtpPorts       string
	externalIP     string
	ringTimeout    time.Duration
	rtPriority     int
	logLevel       string
	tlsCert        string
	tlsKey         string
	pprofAddr      string
	trustedProxies string
	metrics        metricsFlags
	mail           mailFlags
	mailboxes      mailboxFlags
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func parseServeFlags(args []string) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.db, "db", envOr("DESKPBX_DB", "./deskpbx.db"), "SQLite database file (DESKPBX_DB)")
	fs.StringVar(&c.dataDir, "data-dir", envOr("DESKPBX_DATA_DIR", ""), "directory for voicemail audio, created 0700 (DESKPBX_DATA_DIR; default: voicemail beside the database, where deskpbx backup looks)")
	fs.StringVar(&c.sipAddr, "sip-addr", envOr("DESKPBX_SIP_ADDR", ":5060"), "SIP address, UDP and TCP (DESKPBX_SIP_ADDR)")
	fs.StringVar(&c.httpAddr, "http-addr", envOr("DESKPBX_HTTP_ADDR", ":8080"), "admin web page address (DESKPBX_HTTP_ADDR)")
	fs.StringVar(&c.rtpPorts, "rtp-ports", envOr("DESKPBX_RTP_PORTS", "10000-20000"), "RTP port range LO-HI (DESKPBX_RTP_PORTS)")
	fs.StringVar(&c.externalIP, "external-ip", envOr("DESKPBX_EXTERNAL_IP", ""), "address phones reach this box on, for SIP Contact and SDP (DESKPBX_EXTERNAL_IP)")
	ring, err := time.ParseDuration(envOr("DESKPBX_RING_TIMEOUT", "30s"))
	if err != nil {
		return nil, fmt.Errorf("DESKPBX_RING_TIMEOUT: %v", err)
	}
	fs.DurationVar(&c.ringTimeout, "ring-timeout", ring, "unanswered calls end with 480 after this (DESKPBX_RING_TIMEOUT)")
	rtPrio, err := strconv.Atoi(envOr("DESKPBX_RT_PRIORITY", "0"))
	if err != nil {
		return nil, fmt.Errorf("DESKPBX_RT_PRIORITY: %v", err)
	}
	fs.IntVar(&c.rtPriority, "rt-priority", rtPrio, "pace prompts and read RTP on threads under real-time scheduling (SCHED_RR) at this priority, 1-99, so that they keep time on a busy box; 0: normal scheduling. Needs CAP_SYS_NICE or RLIMIT_RTPRIO (the packaged service sets both it and the limit to 10); refused, deskpbx warns and runs normally (DESKPBX_RT_PRIORITY)")
	fs.StringVar(&c.tlsCert, "tls-cert", envOr("DESKPBX_TLS_CERT", ""), "certificate file for the admin page; with -tls-key serves HTTPS (DESKPBX_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", envOr("DESKPBX_TLS_KEY", ""), "private key file for -tls-cert (DESKPBX_TLS_KEY)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", envOr("DESKPBX_PPROF_ADDR", ""), "serve Go's pprof profiles and the live heap (/debug/heap-live) on this loopback address, for profiling; off when empty (DESKPBX_PPROF_ADDR)")
	fs.StringVar(&c.trustedProxies, "trusted-proxies", envOr("DESKPBX_TRUSTED_PROXIES", ""), "reverse proxies in front of the admin page (addresses or prefixes, comma-separated) whose X-Forwarded-For and X-Forwarded-Proto are believed (DESKPBX_TRUSTED_PROXIES)")
	c.metrics.add(fs)
	c.mail.add(fs)
	if err := c.mailboxes.add(fs); err != nil {
		return nil, err
	}
	fs.StringVar(&c.logLevel, "log-level", envOr("DESKPBX_LOG_LEVEL", "info"), "debug, info, warn or error (DESKPBX_LOG_LEVEL)")
	// Errors come back as one line from main; -h prints the flags.
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(os.Stdout)
			fmt.Println("usage: deskpbx serve [flags]")
			fs.PrintDefaults()
			return nil, err
		}
		return nil, usagef("serve: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("serve takes no arguments, got %q", fs.Arg(0))
	}
	if c.rtPriority < 0 || c.rtPriority > 99 {
		return nil, usagef("rt-priority %d: want 1-99, or 0 for normal scheduling", c.rtPriority)
	}
	if c.dataDir == "" {
		c.dataDir = dataDirFor(c.db)
	}
	if err := c.mailboxes.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// dataDirFor is the default voicemail directory: "voicemail" beside the
// database, which is where deskpbx backup and restore look for it.
func dataDirFor(db string) string { return filepath.Join(filepath.Dir(db), "voicemail") }

func parsePortRange(s string) ([2]int, error) {
	lo, hi, ok := strings.Cut(s, "-")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || b-a < 3 {
		return [2]int{}, usagef("rtp-ports %q: want LO-HI within 1024-65535, at least 4 ports", s)
	}
	return [2]int{a, b}, nil
}

// runServe runs the PBX until SIGINT or SIGTERM, then ends calls with
// BYE, writes pending state and returns nil for a clean exit.
func runServe(args []string) error {
	cfg, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	rtp, err := parsePortRange(cfg.rtpPorts)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.logLevel)); err != nil {
		return fmt.Errorf("log-level %q: %v", cfg.logLevel, err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if cfg.rtPriority > 0 {
		// Before any call: pacers and pollers start at the priority.
		if err := media.UseRealtime(cfg.rtPriority); err != nil {
			log.Warn("real-time scheduling refused: prompts and RTP are paced at normal priority, so they may leave late when the box is busy",
				"rt_priority", cfg.rtPriority, "err", err)
		} else {
			log.Info("real-time scheduling for media", "policy", "SCHED_RR", "priority", cfg.rtPriority)
		}
	}

	// Most garbage is short-lived SIP messages; collecting less often
	// buys throughput for memory a PBX box has plenty of.
	// Measured under a registration storm: the live heap stays near
	// 100 MB, so 800 costs little memory and cut CPU per REGISTER by
	// about a tenth against 300 (scripts/bench.sh reg).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(800)
	}
	// ...but not without bound: under a registration storm the heap
	// otherwise grew past 2 GB on a box that has other work to do.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(1 << 30)
	}

	if cfg.pprofAddr != "" {
		ln, err := servePprof(cfg.pprofAddr)
		if err != nil {
			return err
		}
		defer ln.Close()
		log.Info("pprof listening", "addr", ln.Addr().String())
	}

	db, err := store.Open(cfg.db)
	if err != nil {
		return err
	}
	defer db.Close()
	warnExposedFiles(db, log)

	pbx.TuneSIPStack()
	srv, err := pbx.New(pbx.Config{
		DB:          db,
		Log:         log,
		SIPAddr:     cfg.sipAddr,
		ExternalIP:  cfg.externalIP,
		RTPPorts:    rtp,
		RingTimeout: cfg.ringTimeout,
		Handovers:   auditCallEvents(db, log),
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// One hot-desk service for calls and the admin page: it serialises
	// its own writes, which two instances could not do between them.
	vm, err := voicemail.New(ctx, db, cfg.dataDir, log)
	if err != nil {
		return err
	}
	vm.Limit, vm.MaxLen = cfg.mailboxes.limit, cfg.mailboxes.maxLen
	notice := &emergencyNotice{log: log, db: db, mail: cfg.mail}
	hd := wireDialPlan(db, srv, vm, log, notice.call)
	lights := wireLamps(ctx, db, srv, hd, vm, log)
	vm.OnChange = func(box *store.Extension) {
		// Unsolicited NOTIFYs may wait on a phone that does not answer.
		go lights.MailboxChanged(context.WithoutCancel(ctx), box)
	}
	m := newMetrics(db, srv, hd)
	stopCallLog := startCallLog(db, srv, log)
	defer stopCallLog()
	wh, stopWebhooks := startWebhooks(ctx, db, srv, hd, log)
	defer stopWebhooks()
	notice.webhooks, notice.ctx = wh, ctx // before srv.Start: no call reads them earlier
	stopMail := wireVoicemailNews(ctx, vm, wh, log)
	defer stopMail()
	go hd.RunAutoLogout(ctx)
	if err := srv.Start(ctx); err != nil {
		return err
	}
	stopAdmin, err := startAdmin(ctx, cfg, db, srv, hd, vm, m, log)
	if err != nil {
		srv.Shutdown(context.Background())
		return err
	}
	log.Info("deskpbx running", "db", cfg.db, "data_dir", cfg.dataDir, "sip", srv.SIPAddr())
	<-ctx.Done()
	log.Info("shutting down: ending calls")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := stopAdmin(sctx); err != nil {
		log.Warn("admin shutdown", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	log.Info("stopped")
	return nil
}
