package pbx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// A trunk is a tenant's line to a SIP provider. This file is the SIP side
// of trunks the dial plan needs: which INVITEs come from a provider, and
// the routes that send a call out. trunkreg.go registers to providers;
// trunkcall.go carries calls to and from them.

// InboundPlan routes a call that arrived from a trunk. A DialPlan that
// does not implement it has no inbound routes: such calls get 404.
type InboundPlan interface {
	RouteInbound(ctx context.Context, in *InboundCall) Route
}

// EmergencyPlan, when the dial plan implements it, names the numbers no
// guard may slow or stop: a call to one still authenticates, but a source
// blocked for guessing passwords does not keep it from going out.
type EmergencyPlan interface {
	IsEmergency(ctx context.Context, domain, dialled string) bool
}

// emergencyInvite says whether req is a call to an emergency number of
// the tenant of domain.
func (s *Server) emergencyInvite(ctx context.Context, req *sip.Request, domain string) bool {
	ep, ok := s.dialPlan.(EmergencyPlan)
	return ok && req.Method == sip.INVITE && ep.IsEmergency(ctx, domain, req.Recipient.User)
}

// InboundCall is what pbx knows of a call from a provider.
type InboundCall struct {
	Trunk        *store.Trunk
	RequestUser  string // user part of the Request-URI: the DID, unless the provider called our registered Contact
	ToUser       string // user part of To: the DID a provider sends to a registered Contact
	CallerNumber string // user part of From, as the provider sent it
	CallerName   string // display name of From
	Source       string // host:port the INVITE came from
}

// OutsideRoute sends a call out through a trunk.
type OutsideRoute struct {
	Trunk    *store.Trunk
	Number   string // what the provider is asked to call (prefix stripped)
	CallerID string // the outside number in From and P-Asserted-Identity
	// Emergency calls are tried whatever the trunk's state.
	Emergency bool
	// Unavailable, if set, answers the caller with our own media (a
	// spoken message) when the trunk cannot take the call.
	Unavailable *FeatureRoute
}

// TrunkStatus is what the running server knows of a trunk, for the
// dashboard and the CLI.
type TrunkStatus struct {
	ID     int64
	Domain string
	Name   string
	State  string // store.TrunkRegistered, TrunkReachable, TrunkFailing or TrunkUnregistered
	Reason string // why it is failing
	Since  time.Time
}

// trunkRefresh bounds how long a trunk added or changed by the CLI or the
// admin page takes to be registered and recognised.
const trunkRefresh = 2 * time.Second

// trunkLine is one trunk as the SIP side holds it.
type trunkLine struct {
	trunk *store.Trunk
	addrs []netip.Addr // the provider host's addresses, for recognising its INVITEs
	// token is a Contact parameter of our registration: a request that
	// carries it was sent to that registration, whatever its source.
	token string
	stop  context.CancelFunc // ends the registration loop; nil when not registering

	mu     sync.Mutex
	state  string
	reason string
	since  time.Time
}

func (l *trunkLine) status() TrunkStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return TrunkStatus{ID: l.trunk.ID, Domain: l.trunk.Domain, Name: l.trunk.Name, State: l.state, Reason: l.reason, Since: l.since}
}

// setState records a state change; it says whether anything changed.
func (l *trunkLine) setState(state, reason string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == state && l.reason == reason {
		return false
	}
	l.state, l.reason, l.since = state, reason, now
	return true
}

func (l *trunkLine) failing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state == store.TrunkFailing
}

// trunkTable is every trunk of every tenant, reloaded from the database.
type trunkTable struct {
	mu    sync.RWMutex
	lines map[int64]*trunkLine
	dids  map[string]int64 // every provider number and its tenant, so a phone's INVITE costs no query
}

func newTrunkTable() *trunkTable { return &trunkTable{lines: make(map[int64]*trunkLine)} }

func (t *trunkTable) isDID(number string) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.dids[number] != 0
}

func (t *trunkTable) get(id int64) *trunkLine {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lines[id]
}

// match is the trunk an INVITE comes from: by our registration's token,
// else by the source address (any port: providers send from several).
// One provider may serve several tenants from one address: then the
// trunk of the tenant whose DID is called.
func (t *trunkTable) match(req *sip.Request) *trunkLine {
	src, err := netip.ParseAddrPort(req.Source())
	var ip netip.Addr
	if err == nil {
		ip = src.Addr().Unmap()
	}
	token, _ := req.Recipient.UriParams.Get(trunkTokenParam)
	t.mu.RLock()
	defer t.mu.RUnlock()
	tenant := t.dids[req.Recipient.User]
	if to := req.To(); tenant == 0 && to != nil {
		tenant = t.dids[to.Address.User]
	}
	var found *trunkLine
	for _, l := range t.lines {
		if token != "" && l.token == token {
			return l
		}
		if !slices.Contains(l.addrs, ip) {
			continue
		}
		if found == nil || betterMatch(l.trunk, found.trunk, tenant) {
			found = l
		}
	}
	return found
}

const trunkTokenParam = "dpbx"

// betterMatch says whether trunk a is a better guess than b for a call
// to a DID of tenant: the tenant's own trunk, else the oldest.
func betterMatch(a, b *store.Trunk, tenant int64) bool {
	if (a.TenantID == tenant) != (b.TenantID == tenant) {
		return a.TenantID == tenant
	}
	return a.ID < b.ID
}

func (s *Server) startTrunks() {
	s.wg.Add(1)
	go s.runTrunks()
}

// Trunks is the state of every trunk, for the dashboard.
func (s *Server) Trunks() []TrunkStatus {
	s.trunks.mu.RLock()
	defer s.trunks.mu.RUnlock()
	out := make([]TrunkStatus, 0, len(s.trunks.lines))
	for _, l := range s.trunks.lines {
		out = append(out, l.status())
	}
	return out
}

// runTrunks keeps the trunk table in step with the database and a
// registration loop running for each trunk that registers, until the
// server stops.
func (s *Server) runTrunks() {
	defer s.wg.Done()
	t := time.NewTicker(trunkRefresh)
	defer t.Stop()
	for {
		s.reloadTrunks()
		select {
		case <-s.ctx.Done():
			s.trunks.mu.Lock()
			for _, l := range s.trunks.lines {
				if l.stop != nil {
					l.stop()
				}
			}
			s.trunks.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

func (s *Server) reloadTrunks() {
	trunks, err := s.db.Trunks(s.ctx, 0)
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("loading trunks", "err", err)
		}
		return
	}
	if numbers, err := s.db.DIDNumbers(s.ctx); err == nil {
		dids := make(map[string]int64, len(numbers))
		for n, tenant := range numbers {
			dids[n] = tenant
		}
		s.trunks.mu.Lock()
		s.trunks.dids = dids
		s.trunks.mu.Unlock()
	}
	seen := make(map[int64]bool, len(trunks))
	for _, k := range trunks {
		seen[k.ID] = true
		old := s.trunks.get(k.ID)
		addrs := resolveTrunk(s.ctx, k)
		if old != nil && sameTrunk(old.trunk, k) {
			s.trunks.mu.Lock()
			old.addrs = addrs
			s.trunks.mu.Unlock()
			continue
		}
		l := &trunkLine{trunk: k, addrs: addrs, token: newToken(), state: store.TrunkUnregistered}
		if old != nil && old.stop != nil {
			old.stop()
		}
		var ctx context.Context
		ctx, l.stop = context.WithCancel(s.ctx)
		s.wg.Add(1)
		go s.keepTrunk(ctx, l)
		s.trunks.mu.Lock()
		s.trunks.lines[k.ID] = l
		s.trunks.mu.Unlock()
		s.log.Info("trunk loaded", "tenant", k.Domain, "trunk", k.Name, "host", k.Host, "register", k.Register, "addresses", len(addrs))
	}
	s.trunks.mu.Lock()
	for id, l := range s.trunks.lines {
		if !seen[id] {
			if l.stop != nil {
				l.stop()
			}
			delete(s.trunks.lines, id)
		}
	}
	s.trunks.mu.Unlock()
}

// sameTrunk says whether a reloaded trunk needs no new registration.
func sameTrunk(a, b *store.Trunk) bool {
	return a.Host == b.Host && a.Transport == b.Transport && a.Username == b.Username &&
		a.Password == b.Password && a.Register == b.Register && a.FromDomain == b.FromDomain
}

func resolveTrunk(ctx context.Context, k *store.Trunk) []netip.Addr {
	host := k.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for i := range ips {
		ips[i] = ips[i].Unmap()
	}
	return ips
}

// saveTrunkState records a change of state in memory and, for the CLI
// and the admin page, in the database.
func (s *Server) saveTrunkState(l *trunkLine, state, reason string) {
	if !l.setState(state, reason, s.db.Now()) {
		return
	}
	if err := s.db.SetTrunkState(s.ctx, l.trunk.ID, state, reason); err != nil && s.ctx.Err() == nil {
		s.log.Warn("saving trunk state", "trunk", l.trunk.Name, "err", err)
	}
}

func newToken() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
