// Package pbx is deskpbx's SIP mechanism: registrar with digest auth,
// location service, and calls as a B2BUA (legs, bridging, dialogs,
// transfers, pickup) or answered with our own media. Where a call goes
// is not its decision: it asks a DialPlan, and runs the features that
// names through FeatureCall.
package pbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/media"
	"deskpbx/store"
)

// Config is what the binary decides for the SIP side.
type Config struct {
	DB  *store.DB
	Log *slog.Logger

	// SIPAddr is host:port for both UDP and TCP. Port 0 picks a free
	// port (tests), the same for both transports.
	SIPAddr string
	// ExternalIP is the address phones reach us on, for Contact and SDP;
	// empty means the listener's address (or the first non-loopback
	// interface address when listening on all of them).
	ExternalIP string
	// RTPPorts is the inclusive port range for media anchored here.
	RTPPorts [2]int

	// RingTimeout ends an unanswered call with 480 (default 30 s).
	RingTimeout time.Duration
	// MinExpires, MaxExpires and DefaultExpires bound registrations
	// (defaults 60 s, 7200 s, 3600 s).
	MinExpires, MaxExpires, DefaultExpires time.Duration
	// NonceTTL is how long a digest nonce stays valid (default 5 min).
	NonceTTL time.Duration
	// OfferSHA256 adds an RFC 8760 SHA-256 challenge after the MD5 one.
	OfferSHA256 bool

	// Handovers, if set, is told of every transfer and pickup (for the
	// audit log); it runs on the call's goroutine, so keep it short.
	Handovers func(context.Context, Handover)
	// FeatureCallsPerPhone caps the calls one phone may have answered
	// with our own media at once (default 4); one more gets 486.
	FeatureCallsPerPhone int
	// RTPReserve is how many RTP ports only priority feature calls
	// (FeatureRoute.Priority) may take (default a 50th of the range, at least 2; negative: none).
	RTPReserve int
}

func (c *Config) setDefaults() {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.SIPAddr == "" {
		c.SIPAddr = ":5060"
	}
	if c.RTPPorts == [2]int{} {
		c.RTPPorts = [2]int{10000, 20000}
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = 30 * time.Second
	}
	if c.MinExpires == 0 {
		c.MinExpires = 60 * time.Second
	}
	if c.MaxExpires == 0 {
		c.MaxExpires = 7200 * time.Second
	}
	if c.DefaultExpires == 0 {
		c.DefaultExpires = 3600 * time.Second
	}
	if c.NonceTTL == 0 {
		c.NonceTTL = 5 * time.Minute
	}
	if c.FeatureCallsPerPhone == 0 {
		c.FeatureCallsPerPhone = 4
	}
	if c.RTPReserve == 0 {
		c.RTPReserve = max(2, (c.RTPPorts[1]-c.RTPPorts[0])/100)
	}
}

// Server is the running SIP side of deskpbx.
type Server struct {
	cfg    Config
	db     *store.DB
	log    *slog.Logger
	ua     *sipgo.UserAgent
	sip    *sipgo.Server
	client *sipgo.Client
	dua    *sipgo.DialogUA

	nonces       *nonceStore
	dir          *directory
	guard        *authGuard
	location     *Location
	writer       *store.BindingWriter
	calls        *callTable
	ringing      *ringingCalls
	registerJobs registerQueue
	// registerReplies absorbs retransmitted REGISTERs that registerUDP
	// took without a transaction.
	registerReplies *replyCache
	dialPlan        DialPlan
	subs            *subscriptions
	observer        CallObserver
	metrics         Metrics
	onCallEnded     []func(CallEnd)
	onContactAdded  []func(context.Context, *store.Extension)
	trunks          *trunkTable

	ports        *media.PortAllocator
	featureCalls perPhone
	rtpIP        netip.Addr // where feature calls bind RTP; SDP says contactIP

	udp        net.PacketConn
	tcp        net.Listener
	listenAddr string // what we bound, host:port with the real port
	contactIP  string

	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	draining atomic.Bool
}

// New prepares a server; Start binds and serves.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.DB == nil {
		return nil, errors.New("pbx: no database")
	}
	s := &Server{
		cfg:    cfg,
		db:     cfg.DB,
		log:    cfg.Log,
		nonces: newNonceStore(cfg.NonceTTL, cfg.DB.Now),
		calls:  newCallTable(),
		subs:   newSubscriptions(),
		trunks: newTrunkTable(),
	}
	s.metrics = noMetrics{}
	s.ringing = newRingingCalls()
	// Kept as long as sipgo keeps a finished transaction (Timer J, which
	// TuneSIPStack sets before New).
	s.registerReplies = newReplyCache(sip.Timer_J)
	s.location = newLocation(cfg.DB.Now)
	s.dir = newDirectory(cfg.DB)
	s.guard = newAuthGuard(cfg.DB.Now)
	ports, err := media.NewPortAllocator(cfg.RTPPorts[0], cfg.RTPPorts[1])
	if err != nil {
		return nil, fmt.Errorf("rtp ports: %w", err)
	}
	ports.SetReserve(cfg.RTPReserve)
	s.ports = ports
	return s, nil
}

// TuneSIPStack sets sipgo's process-wide knobs for a registrar under
// load. Call it once, before any Server starts: sipgo reads them
// unsynchronised, and a package that merely imports pbx (for its types)
// must not have them changed behind its back, as an init() would.
func TuneSIPStack() {
	// Timer J keeps a finished non-INVITE server transaction (every
	// REGISTER) only to absorb retransmissions. RFC 3261's 32 s kept
	// hundreds of thousands alive under load (1-2 GB of heap); 5 s still
	// covers several retransmission intervals of a lost 200.
	sip.Timer_J = 5 * time.Second
	// A response over UDP goes over UDP whatever its size (RFC 3261
	// §18.2.2); sipgo otherwise drops one above 1300 bytes, e.g. a 407
	// echoing a long Via list.
	sip.UDPMTUSize = 65535
}

// udpReadBuffer keeps bursts of REGISTERs from overflowing the kernel
// queue while the Go runtime is in a GC pause: measured on this box, the
// default buffer alone caused hundreds of retransmissions per load run.
const udpReadBuffer = 4 << 20

// Start binds UDP and TCP on the configured address, restores bindings
// saved by a previous run and starts serving. It returns once listening.
func (s *Server) Start(ctx context.Context) error {
	if s.dialPlan == nil {
		return errors.New("pbx: no dial plan (SetDialPlan)")
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.listen(); err != nil {
		return err
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("deskpbx"), sipgo.WithUserAgentHostname(s.contactIP))
	if err != nil {
		return err
	}
	s.ua = ua
	if s.sip, err = sipgo.NewServer(ua, sipgo.WithServerLogger(s.log)); err != nil {
		return err
	}
	if s.client, err = sipgo.NewClient(ua, sipgo.WithClientHostname(s.contactIP), sipgo.WithClientLogger(s.log)); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(s.listenAddr)
	p, _ := strconv.Atoi(port)
	s.dua = &sipgo.DialogUA{
		Client:         s.client,
		ContactHDR:     sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "deskpbx", Host: s.contactIP, Port: p}},
		RewriteContact: true,
	}
	s.startRegisterWorkers()
	s.startTrunks()
	s.routes()
	s.sip.OnStatelessRequest(s.challengeStateless)

	saved, err := s.db.LoadBindings(ctx)
	if err != nil {
		return fmt.Errorf("loading bindings: %w", err)
	}
	s.location.restore(saved)
	s.writer = s.db.NewBindingWriter(s.log, s.flushRegisterOKs)

	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.sip.ServeUDP(s.udp) }()
	go func() { defer s.wg.Done(); s.sip.ServeTCP(s.tcp) }()
	go func() { defer s.wg.Done(); s.sweep() }()
	s.log.Info("SIP listening", "udp", s.udp.LocalAddr().String(), "tcp", s.tcp.Addr().String(),
		"contact", s.contactIP, "bindings_restored", len(saved))
	return nil
}

// listen binds UDP first and TCP on the same port; with port 0 it retries
// until both transports get one port.
func (s *Server) listen() error {
	host, port, err := net.SplitHostPort(s.cfg.SIPAddr)
	if err != nil {
		return fmt.Errorf("sip address %q: %w", s.cfg.SIPAddr, err)
	}
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		if network == "udp" || network == "udp4" || network == "udp6" {
			c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, udpReadBuffer)
			})
		}
		return serr
	}}
	for attempt := 0; ; attempt++ {
		udp, err := lc.ListenPacket(context.Background(), "udp", net.JoinHostPort(host, port))
		if err != nil {
			return fmt.Errorf("sip udp listen: %w", err)
		}
		real := strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)
		tcp, err := net.Listen("tcp", net.JoinHostPort(host, real))
		if err != nil {
			udp.Close()
			if port == "0" && attempt < 20 {
				continue
			}
			return fmt.Errorf("sip tcp listen: %w", err)
		}
		s.udp, s.tcp = udp, guardTCP(tcp)
		s.listenAddr = net.JoinHostPort(host, real)
		break
	}
	s.rtpIP = netip.IPv4Unspecified()
	if ip, err := netip.ParseAddr(host); err == nil {
		s.rtpIP = ip
	}
	s.contactIP = s.cfg.ExternalIP
	if s.contactIP == "" {
		s.contactIP = host
	}
	if ip := net.ParseIP(s.contactIP); s.contactIP == "" || ip != nil && ip.IsUnspecified() {
		s.contactIP = firstInterfaceIP()
	}
	return nil
}

func firstInterfaceIP() string {
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return "127.0.0.1"
}

// SIPAddr is the host:port phones should use (with the real port when
// the configured one was 0).
func (s *Server) SIPAddr() string {
	_, port, _ := net.SplitHostPort(s.listenAddr)
	return net.JoinHostPort(s.contactIP, port)
}

// ContactIP is the address put in Contact headers and SDP.
func (s *Server) ContactIP() string { return s.contactIP }

// Location is the live registration table.
func (s *Server) Location() *Location { return s.location }

// Shutdown stops taking new calls, ends active calls with BYE, writes
// pending bindings and closes the listeners.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.calls.hangupAll(ctx)
	// Let each call's owner finish (final responses, BYE transactions)
	// before the transport goes away.
	for len(s.calls.snapshot()) > 0 && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	s.unregisterTrunks(ctx)
	s.cancel()
	s.subs.close()
	var errs []error
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	if s.sip != nil {
		errs = append(errs, s.sip.Close())
	}
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.ua != nil {
		s.ua.Close()
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}

// directoryRefresh bounds how long a password change or a removed
// extension takes to reach authentication.
const directoryRefresh = 250 * time.Millisecond

// sweep drops expired bindings from memory and from the database, and
// notices directory changes made elsewhere.
func (s *Server) sweep() {
	t := time.NewTicker(directoryRefresh)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		if err := s.dir.refresh(s.ctx); err != nil && s.ctx.Err() == nil {
			s.log.Warn("checking for directory changes", "err", err)
		}
		if i%4 != 0 {
			continue
		}
		s.location.sweep()
		s.registerReplies.rotate()
		if i%120 == 0 {
			s.guard.sweep()
			if _, err := s.db.DeleteExpiredBindings(s.ctx); err != nil && s.ctx.Err() == nil {
				s.log.Warn("sweeping expired bindings", "err", err)
			}
		}
	}
}
