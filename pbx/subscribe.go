package pbx

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// EventPackage serves one SIP event package (RFC 6665) to subscribers:
// message-summary, dialog, presence. pbx carries the subscriptions and
// their NOTIFYs; the package alone knows what a resource is.
type EventPackage interface {
	// Authorize decides whether the phone registered as subscriber may
	// watch target (the user part of the Request-URI, in the phone's own
	// tenant), and names the resource its NOTIFYs describe.
	Authorize(ctx context.Context, subscriber *store.Extension, target string) (resource string, ok bool)
	// Body is the resource's current state. version counts the NOTIFYs
	// of one subscription from 0, as RFC 4235 wants of dialog-info.
	Body(ctx context.Context, resource string, version uint32) (contentType string, body []byte)
}

// Default bounds on subscriptions: a phone with a full BLF side-car has
// a few dozen keys; the total keeps a flood of phones from growing the
// table (and the NOTIFY fan-out) without limit.
const (
	defaultSubscriptionsPerPhone = 50
	defaultSubscriptionsTotal    = 20_000
)

// HandleEvent serves event (a package name such as "dialog") with p.
func (s *Server) HandleEvent(event string, p EventPackage) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	s.subs.packages[strings.ToLower(event)] = p
}

// SetSubscriptionLimits bounds subscriptions per phone (extension) and
// in total, for new subscriptions; zero keeps the current bound.
func (s *Server) SetSubscriptionLimits(perPhone, total int) {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	if perPhone > 0 {
		s.subs.perPhone = perPhone
	}
	if total > 0 {
		s.subs.total = total
	}
}

// Notify tells every subscriber to event for resource that it changed.
// It does not wait for the NOTIFYs; each subscription gets the state as
// it is when its NOTIFY is built, so a quick succession of changes may
// reach a subscriber as fewer NOTIFYs, never out of order.
func (s *Server) Notify(event, resource string) {
	for _, sub := range s.subs.of(strings.ToLower(event), resource) {
		s.subs.kick(s, sub)
	}
}

// Subscriptions is the number of live subscriptions.
func (s *Server) Subscriptions() int { return s.subs.count() }

// parseEvent splits an Event header value into the package name and the
// whole value, which NOTIFYs echo (RFC 6665 §8.2.1: with its id).
func parseEvent(req *sip.Request) (name, value string) {
	h := req.GetHeader("Event")
	if h == nil {
		if h = req.GetHeader("o"); h == nil {
			return "", ""
		}
	}
	value = strings.TrimSpace(h.Value())
	name, _, _ = strings.Cut(value, ";")
	return strings.ToLower(strings.TrimSpace(name)), value
}

// onSubscribe handles SUBSCRIBE: new subscriptions, refreshes and
// un-subscriptions (RFC 6665 §4.2.1).
func (s *Server) onSubscribe(req *sip.Request, tx sip.ServerTransaction) {
	event, eventValue := parseEvent(req)
	if event == "" {
		s.respond(tx, req, 400, "Missing Event")
		return
	}
	pkg, ok := s.subs.pkg(event)
	if !ok {
		s.respond(tx, req, 489, "Bad Event", sip.NewHeader("Allow-Events", s.subs.allowEvents()))
		return
	}
	from, cseq := req.From(), req.CSeq()
	if from == nil || cseq == nil {
		s.respond(tx, req, 400, "Missing From or CSeq")
		return
	}
	if _, ok := from.Params.Get("tag"); !ok {
		s.respond(tx, req, 400, "Missing From tag")
		return
	}
	expires := int(s.cfg.DefaultExpires / time.Second)
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			s.respond(tx, req, 400, "Bad Expires")
			return
		}
		expires = int(min(v, 1<<31-1))
	}
	ext := s.authenticate(s.ctx, req, tx, from.Address.Host)
	if ext == nil {
		return
	}
	if expires > 0 && time.Duration(expires)*time.Second < s.cfg.MinExpires {
		s.respond(tx, req, 423, "Interval Too Brief",
			sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
		return
	}
	lifetime := min(time.Duration(expires)*time.Second, s.cfg.MaxExpires)
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.refreshSubscription(req, tx, ext, event, lifetime)
		return
	}
	if req.Contact() == nil {
		s.respond(tx, req, 400, "Missing Contact")
		return
	}
	// Another tenant's resource gets the answer a missing one gets: the
	// package never sees it, and 403 says nothing about existence.
	host := req.Recipient.Host
	if !store.IsIPHost(host) && !strings.EqualFold(host, ext.Domain) {
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	resource, ok := pkg.Authorize(s.ctx, ext, req.Recipient.User)
	if !ok {
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	sub := s.newSubscription(req, ext, event, eventValue, resource, pkg)
	if lifetime == 0 {
		// A fetch (RFC 6665 §4.4.3): one NOTIFY with the state, no
		// subscription kept.
		s.acceptSubscribe(tx, req, sub.localTag, 0)
		sub.terminated, sub.reason = true, "timeout"
		s.subs.kick(s, sub)
		return
	}
	if !s.subs.add(sub, lifetime, func() { s.expireSubscription(sub) }) {
		s.log.Info("subscription refused: too many", "aor", ext.AOR(), "event", event, "source", req.Source())
		s.respond(tx, req, 403, "Too Many Subscriptions")
		return
	}
	s.log.Debug("subscribed", "aor", ext.AOR(), "event", event, "resource", resource, "expires", lifetime)
	s.acceptSubscribe(tx, req, sub.localTag, lifetime)
	s.subs.kick(s, sub)
}

// refreshSubscription handles a SUBSCRIBE inside a subscription's dialog:
// a new expiry, or with Expires 0 its end.
func (s *Server) refreshSubscription(req *sip.Request, tx sip.ServerTransaction, ext *store.Extension, event string, lifetime time.Duration) {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		s.respond(tx, req, 481, "Subscription Does Not Exist")
		return
	}
	sub, verdict := s.subs.refresh(id, ext.ID, event, req.CSeq().SeqNo, lifetime)
	switch verdict {
	case refreshUnknown:
		s.respond(tx, req, 481, "Subscription Does Not Exist")
		return
	case refreshOutOfOrder:
		s.respond(tx, req, 500, "Out of Order SUBSCRIBE")
		return
	}
	s.acceptSubscribe(tx, req, sub.localTag, lifetime)
	if lifetime == 0 {
		s.subs.remove(sub, "")
	}
	// A refresh gets the current state too (RFC 6665 §4.2.1.2), and an
	// un-subscribe the final NOTIFY.
	s.subs.kick(s, sub)
}

// expireSubscription ends a subscription its phone did not refresh.
func (s *Server) expireSubscription(sub *subscription) {
	if s.subs.remove(sub, "timeout") {
		s.subs.kick(s, sub)
	}
}

func (s *Server) acceptSubscribe(tx sip.ServerTransaction, req *sip.Request, localTag string, lifetime time.Duration) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	if to := res.To(); to != nil {
		// sipgo made up a tag if the request had none; the dialog's is ours.
		to.Params.Remove("tag")
		to.Params.Add("tag", localTag)
	}
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(lifetime/time.Second))))
	contact := s.dua.ContactHDR
	res.AppendHeader(&contact)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("respond to SUBSCRIBE", "err", err)
	}
}

func (t *subscriptions) pkg(event string) (EventPackage, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, ok := t.packages[event]
	return p, ok
}

// allowEvents lists the packages served, for 489 answers.
func (t *subscriptions) allowEvents() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	names := make([]string, 0, len(t.packages))
	for n := range t.packages {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// subscription is one phone's subscription: a dialog of its own in
// which we send NOTIFYs to the phone's Contact, over the transport and to
// the source it subscribed from (like calls to a registered phone).
type subscription struct {
	id       string // dialog ID, as UAS
	event    string
	eventHdr string
	resource string
	pkg      EventPackage
	ext      *store.Extension

	callID              string
	localTag, remoteTag string
	local, remote       sip.Uri // the SUBSCRIBE's To and From addresses
	target              sip.Uri // the subscriber's Contact
	source, transport   string

	// Guarded by subscriptions.mu.
	remoteCSeq uint32
	expires    time.Time
	timer      *time.Timer
	terminated bool   // no longer in the table; one final NOTIFY is owed
	reason     string // Subscription-State reason of the final NOTIFY
	done       bool   // final NOTIFY sent (or the phone is gone)
	dirty      bool   // the state changed since the last NOTIFY
	sending    bool   // a deliverer goroutine is running

	// Owned by the deliverer goroutine.
	cseq    uint32
	version uint32
}

func (s *Server) newSubscription(req *sip.Request, ext *store.Extension, event, eventValue, resource string, pkg EventPackage) *subscription {
	fromTag, _ := req.From().Params.Get("tag")
	sub := &subscription{
		event: event, eventHdr: eventValue, resource: resource, pkg: pkg, ext: ext,
		callID: req.CallID().Value(), localTag: sip.GenerateTagN(16), remoteTag: fromTag,
		remote: req.From().Address, target: req.Contact().Address,
		source: req.Source(), transport: strings.ToLower(req.Transport()),
		remoteCSeq: req.CSeq().SeqNo, cseq: 1,
	}
	if to := req.To(); to != nil {
		sub.local = to.Address
	}
	sub.id = sip.DialogIDMake(sub.callID, sub.localTag, sub.remoteTag)
	return sub
}

// subscriptions is the table of live subscriptions.
type subscriptions struct {
	mu         sync.Mutex
	packages   map[string]EventPackage
	perPhone   int
	total      int
	byID       map[string]*subscription
	byResource map[string]map[*subscription]struct{} // event "\x00" resource
	perExt     map[int64]int
	closed     bool
	wg         sync.WaitGroup // deliverer goroutines
}

func newSubscriptions() *subscriptions {
	return &subscriptions{
		packages: make(map[string]EventPackage),
		perPhone: defaultSubscriptionsPerPhone, total: defaultSubscriptionsTotal,
		byID:       make(map[string]*subscription),
		byResource: make(map[string]map[*subscription]struct{}),
		perExt:     make(map[int64]int),
	}
}

func resourceKey(event, resource string) string { return event + "\x00" + resource }

// add enters sub for lifetime, unless a bound says no.
func (t *subscriptions) add(sub *subscription, lifetime time.Duration, expire func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || len(t.byID) >= t.total || t.perExt[sub.ext.ID] >= t.perPhone {
		return false
	}
	t.byID[sub.id] = sub
	k := resourceKey(sub.event, sub.resource)
	if t.byResource[k] == nil {
		t.byResource[k] = make(map[*subscription]struct{})
	}
	t.byResource[k][sub] = struct{}{}
	t.perExt[sub.ext.ID]++
	sub.expires = time.Now().Add(lifetime)
	sub.timer = time.AfterFunc(lifetime, expire)
	return true
}

type refreshVerdict int

const (
	refreshOK refreshVerdict = iota
	refreshUnknown
	refreshOutOfOrder
)

// refresh extends the subscription with dialog id, if it is extID's and
// for event; a lifetime of 0 leaves the removal to the caller.
func (t *subscriptions) refresh(id string, extID int64, event string, cseq uint32, lifetime time.Duration) (*subscription, refreshVerdict) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sub := t.byID[id]
	if sub == nil || sub.ext.ID != extID || sub.event != event {
		return nil, refreshUnknown
	}
	if cseq <= sub.remoteCSeq {
		return nil, refreshOutOfOrder
	}
	sub.remoteCSeq = cseq
	if lifetime > 0 {
		sub.expires = time.Now().Add(lifetime)
		sub.timer.Reset(lifetime)
	}
	return sub, refreshOK
}

// remove takes sub out of the table; its final NOTIFY will say
// "terminated" with reason. It reports whether sub was still in.
func (t *subscriptions) remove(sub *subscription, reason string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.removeLocked(sub, reason)
}

func (t *subscriptions) removeLocked(sub *subscription, reason string) bool {
	if t.byID[sub.id] != sub {
		return false
	}
	delete(t.byID, sub.id)
	k := resourceKey(sub.event, sub.resource)
	delete(t.byResource[k], sub)
	if len(t.byResource[k]) == 0 {
		delete(t.byResource, k)
	}
	if t.perExt[sub.ext.ID]--; t.perExt[sub.ext.ID] <= 0 {
		delete(t.perExt, sub.ext.ID)
	}
	sub.timer.Stop()
	sub.terminated, sub.reason = true, reason
	return true
}

func (t *subscriptions) of(event, resource string) []*subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	set := t.byResource[resourceKey(event, resource)]
	out := make([]*subscription, 0, len(set))
	for sub := range set {
		out = append(out, sub)
	}
	return out
}

func (t *subscriptions) has(extID int64, source, event string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.perExt[extID] == 0 {
		return false
	}
	for _, sub := range t.byID {
		if sub.ext.ID == extID && sub.event == event && sub.source == source {
			return true
		}
	}
	return false
}

// count is the number of live subscriptions.
func (t *subscriptions) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// close stops expiry timers and new deliveries, and waits for the NOTIFYs
// in flight (the server's context ending cuts them short).
func (t *subscriptions) close() {
	t.mu.Lock()
	t.closed = true
	for _, sub := range t.byID {
		sub.timer.Stop()
	}
	t.mu.Unlock()
	t.wg.Wait()
}
