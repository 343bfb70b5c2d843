// Package metrics exposes deskpbx's state and counters in the Prometheus
// text format. Gauges are read at scrape time from Sources (functions the
// binary wires to the live registration table, calls and the database),
// so nothing here reaches into the PBX; counters are fed through Recorder
// by the packages that see the events.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "deskpbx"

// Sources are read on every scrape. A nil function leaves its metric out.
type Sources struct {
	// Registrations is the number of live bindings (registered contacts).
	Registrations func() int
	// Calls is the number of calls in progress, ringing and answered.
	Calls func() (ringing, answered int)
	// SeatsInUse is the number of hot-desk sessions: people seated at a
	// phone not their own.
	SeatsInUse func(context.Context) (int, error)
	// HotdeskLogins is the number of *072 logins completed since start,
	// and the p50 and p99 time from the final key to the login's commit.
	HotdeskLogins func() (count int, p50, p99 time.Duration)
}

// Recorder takes the events the PBX and its features count. The packages
// that see them (pbx, hotdesk, voicemail, trunks) may declare the subset
// they call as their own interface; *Metrics satisfies all of them, and
// Discard stands in when metrics are off.
type Recorder interface {
	// SIPRequest counts a request received, by method.
	SIPRequest(method string)
	// SIPResponse counts a final or provisional response sent, by the
	// method it answers and its status code.
	SIPResponse(method string, code int)
	// RTP adds one call's media counts when it ends (or periodically).
	RTP(sent, late, lost uint64)
	// CallEnded counts a call by outcome: "answered", "busy",
	// "no_answer", "cancelled", "failed".
	CallEnded(outcome string)
	// HotdeskLogin counts a *072 attempt by outcome: "ok", "wrong_pin",
	// "unknown_id", "locked", "no_secret", "disabled", "error".
	HotdeskLogin(outcome string)
	// HotdeskLockout counts an ID or seat locked after too many failures.
	HotdeskLockout()
}

// Discard is a Recorder that records nothing.
var Discard Recorder = discard{}

type discard struct{}

func (discard) SIPRequest(string)          {}
func (discard) SIPResponse(string, int)    {}
func (discard) RTP(uint64, uint64, uint64) {}
func (discard) CallEnded(string)           {}
func (discard) HotdeskLogin(string)        {}
func (discard) HotdeskLockout()            {}

// Metrics is one registry: deskpbx's gauges and counters, and Go's
// runtime and process metrics.
type Metrics struct {
	reg *prometheus.Registry

	sipRequests  *prometheus.CounterVec
	sipResponses *prometheus.CounterVec
	// Every REGISTER is counted twice or more: the counters are resolved
	// once (requests by method index, responses cached by method and code)
	// rather than by label lookup each time.
	requests  []prometheus.Counter
	responses sync.Map // responseKey -> prometheus.Counter
	rtpSent   prometheus.Counter
	rtpLate   prometheus.Counter
	rtpLost   prometheus.Counter
	calls     *prometheus.CounterVec
	logins    *prometheus.CounterVec
	lockouts  prometheus.Counter
}

var _ Recorder = (*Metrics)(nil)

// sipMethods are counted under their own name (and shown at 0 before the
// first one); anything else is "other", so a scanner sending made-up
// methods cannot grow the label set without bound.
var sipMethods = []string{"REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "PRACK",
	"SUBSCRIBE", "NOTIFY", "PUBLISH", "MESSAGE", "REFER"}

// New builds the registry over src.
func New(src Sources) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help})
		m.reg.MustRegister(c)
		return c
	}
	counterVec := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
		m.reg.MustRegister(c)
		return c
	}
	m.sipRequests = counterVec("sip_requests_total", "SIP requests received, by method.", "method")
	m.sipResponses = counterVec("sip_responses_total", "SIP responses sent, by the method answered and status code.", "method", "code")
	for _, method := range append(sipMethods, "other") {
		m.requests = append(m.requests, m.sipRequests.WithLabelValues(method))
	}
	m.rtpSent = counter("rtp_packets_sent_total", "RTP packets sent by the PBX (prompts, echo, recordings).")
	m.rtpLate = counter("rtp_packets_late_total", "RTP packets sent later than their 20 ms slot.")
	m.rtpLost = counter("rtp_packets_lost_total", "RTP packets expected from phones but never received.")
	m.calls = counterVec("calls_total", "Calls ended, by outcome.", "outcome")
	m.logins = counterVec("hotdesk_login_attempts_total", "Hot-desk *072 login attempts, by outcome.", "outcome")
	m.lockouts = counter("hotdesk_lockouts_total", "Hot-desk IDs or seats locked after too many wrong PINs.")

	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg.MustRegister(&sourceCollector{src: src})
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		// A source that fails (the database busy) drops its metric from
		// this scrape; the rest are still served.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
}

func (m *Metrics) SIPRequest(method string) { m.requests[methodIndex(method)].Inc() }

type responseKey struct{ method, code int }

func (m *Metrics) SIPResponse(method string, code int) {
	if code < 100 || code > 699 {
		code = 0
	}
	k := responseKey{methodIndex(method), code}
	if c, ok := m.responses.Load(k); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	label := "other"
	if code != 0 {
		label = strconv.Itoa(code)
	}
	c := m.sipResponses.WithLabelValues(methodLabel(k.method), label)
	m.responses.Store(k, c)
	c.Inc()
}

func (m *Metrics) RTP(sent, late, lost uint64) {
	m.rtpSent.Add(float64(sent))
	m.rtpLate.Add(float64(late))
	m.rtpLost.Add(float64(lost))
}

func (m *Metrics) CallEnded(outcome string)    { m.calls.WithLabelValues(outcome).Inc() }
func (m *Metrics) HotdeskLogin(outcome string) { m.logins.WithLabelValues(outcome).Inc() }
func (m *Metrics) HotdeskLockout()             { m.lockouts.Inc() }

// methodIndex is method's place in sipMethods, or len(sipMethods) for
// "other".
func methodIndex(method string) int {
	for i, known := range sipMethods {
		if method == known {
			return i
		}
	}
	for i, known := range sipMethods {
		if strings.EqualFold(method, known) {
			return i
		}
	}
	return len(sipMethods)
}

func methodLabel(i int) string {
	if i < len(sipMethods) {
		return sipMethods[i]
	}
	return "other"
}
