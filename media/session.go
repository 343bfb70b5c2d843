package media

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// ErrClosed is returned by session operations once the session is closed.
var ErrClosed = errors.New("media: session closed")

// relatchAfter is how many consecutive, in-sequence packets of one SSRC a
// new source address must send, with nothing from the latched address in
// between, before we move our RTP to it. One spoofed or stray packet cannot
// steal the stream (the "RTP bleed" attack), but a phone whose NAT binding
// changed is followed within 80 ms.
const relatchAfter = 4

// Config tunes a Session; the zero value is what a PBX wants.
type Config struct {
	Logger *slog.Logger
	// EventsOnStart reports RFC 4733 digits on the first packet of an event
	// instead of its first end packet. Earlier, but a press whose start
	// packets were lost is still reported, on its end.
	EventsOnStart bool
	// Signaling is the address the call's SIP requests came from. RTP is
	// accepted (and latched to) only from it or from the SDP's address,
	// and before any RTP arrives we send to the SDP address only when it
	// is this one. Without it, any source may latch and the SDP address
	// is trusted: only for tests and tools, a PBX always sets it.
	Signaling netip.Addr
	// Priority lets the session take a port of the allocator's reserve
	// (PortAllocator.SetReserve).
	Priority bool
}

// Stats counts what a session saw; for tests, logs and the admin page.
type Stats struct {
	Sent     uint64 // RTP packets sent
	Received uint64 // RTP packets accepted (audio and events)
	Ignored  uint64 // datagrams that were not RTP we understand: junk, RTCP, other payload types
	Foreign  uint64 // valid RTP from an address we did not latch to
	Late     uint64 // prompt frames sent more than 5 ms after their slot: the box is overloaded
	Latched  netip.AddrPort
}

// Session is the PBX's end of one call's RTP stream: a bound UDP port,
// read every 20 ms by a poller shared with other calls (which detects DTMF
// and can echo), and a sender used by the player, whose frames a pacer
// shared with other calls sends. Everything it starts ends on Close or
// when the context given to NewSession is done.
//
// Symmetric RTP: we latch to the source of the first valid RTP packet
// (version 2, a payload type we negotiated) that comes from the SDP's IP
// address or the signalling's: any port, as a NAT rewrites it, but never
// another host, so a third party spraying our ports can neither hear the
// call nor inject digits (and the ports are random, see PortAllocator).
// Until that packet, we send to the SDP address only when it is the
// signalling's own: an address merely written in SDP is not confirmed, and
// sending there would make us reflect prompts at whoever it names. An SSRC
// change from the latched address is accepted as the same phone (phones
// change SSRC on re-INVITE, transfer or restart). Another allowed address
// takes over only after relatchAfter consecutive packets, and a re-INVITE
// that moves the SDP address starts the learning again.
type Session struct {
	log   *slog.Logger
	lease *PortLease
	local netip.AddrPort

	mu      sync.Mutex // guards the fields below up to tx
	neg     Negotiated
	hasNeg  bool
	latched netip.AddrPort
	cand    candidate
	sigAddr netip.Addr // see Config.Signaling; invalid when not given

	tx     sender
	digits *digitStream

	playing chan struct{} // holds a token while a Play runs
	out     playout

	sock       rawSocket
	onDatagram func(b []byte, src netip.AddrPort) // receive at pollNow, bound once
	pollNow    time.Time

	rxMu    sync.Mutex     // guards poller, and orders closing against a flood's end
	poller  *poller        // reads the socket; nil while a flood has its own reader
	closing atomic.Bool    // set by Close
	flood   sync.WaitGroup // the flood reader, if any (readFlood)

	// Used by whoever reads the socket (the poller, with its lock held, or
	// a flood's reader): one at a time.
	pkt        rtp.Packet
	events     eventDetector
	tones      toneDetector
	pcm        []int16
	rxNow      time.Time
	echoPrimed bool
	echoLastTS uint32

	echoOn    atomic.Bool
	echoReset atomic.Bool
	rec       atomic.Pointer[recording] // set while Record runs (record.go)
	recMu     sync.Mutex                // orders a key's report and its writing into rec (pressed)

	sent, received, ignored, foreign, late atomic.Uint64

	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	stopCtx   func() bool
}

type candidate struct {
	addr netip.AddrPort
	ssrc uint32
	seq  uint16
	n    int
}

// sender holds our outgoing stream state. A pacer sends Play's frames and
// the poller Echo's, so it has its own lock.
type sender struct {
	mu      sync.Mutex
	hdr     rtp.Header
	buf     [12 + 2048]byte
	lastAt  time.Time
	started bool
	gap     bool // a frame was due but had nowhere to go
	closed  bool
}

// NewSession binds an RTP port from ports on ip and starts receiving. The
// session ends when ctx is done or Close is called.
func NewSession(ctx context.Context, ports *PortAllocator, ip netip.Addr, cfg Config) (*Session, error) {
	lease, err := ports.listenSession(ip, cfg.Priority)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Session{
		log:    log,
		lease:  lease,
		local:  netip.AddrPortFrom(ip, uint16(lease.Port())),
		digits: newDigitStream(),
		pcm:    make([]int16, 0, 2048),
		done:   make(chan struct{}),
	}
	s.playing, s.out.ended = make(chan struct{}, 1), make(chan struct{}, 1)
	if cfg.Signaling.IsValid() {
		s.sigAddr = cfg.Signaling.Unmap()
	}
	s.tx.hdr = rtp.Header{
		Version:        2,
		SSRC:           rand.Uint32(),
		SequenceNumber: uint16(rand.Uint32()),
		Timestamp:      rand.Uint32(),
	}
	s.events.onStart = cfg.EventsOnStart
	s.events.emit = func(key rune, start, end time.Time) {
		if s.pressed(key, RFC4733, start, end) {
			s.log.Debug("dtmf", "digit", string(key), "method", RFC4733.String())
		}
	}
	s.tones.onDigit = func(key rune, samplesAgo int) {
		start := s.rxNow.Add(-time.Duration(samplesAgo) * time.Second / 8000)
		if s.digits.report(key, Inband, start, s.rxNow) {
			s.log.Debug("dtmf", "digit", string(key), "method", Inband.String())
		}
	}
	s.onDatagram = func(b []byte, src netip.AddrPort) { s.receive(b, src, s.pollNow) }
	s.sock.init(lease)
	s.stopCtx = context.AfterFunc(ctx, func() { s.Close() })
	pollerFor().add(s)
	return s, nil
}

// LocalAddr is the address our RTP is received on; its port goes in SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Port is the local RTP port.
func (s *Session) Port() int { return int(s.local.Port()) }

// Done is closed when the session has ended.
func (s *Session) Done() <-chan struct{} { return s.done }

// SetRemote applies a negotiation (from Negotiate, or Offer.Accept), and
// again on every re-INVITE. Moving the SDP address drops the latch so the
// new address is used and learned afresh.
func (s *Session) SetRemote(n Negotiated) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hasNeg && n.Remote.IsValid() && n.Remote != s.neg.Remote {
		s.latched, s.cand = netip.AddrPort{}, candidate{}
	}
	s.neg, s.hasNeg = n, true
}

// Codec is the negotiated codec (PCMU until SetRemote says otherwise).
func (s *Session) Codec() Codec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.neg.Codec
}

// Stats returns counters of the session's traffic so far.
func (s *Session) Stats() Stats {
	s.mu.Lock()
	latched := s.latched
	s.mu.Unlock()
	return Stats{
		Sent:     s.sent.Load(),
		Received: s.received.Load(),
		Ignored:  s.ignored.Load(),
		Foreign:  s.foreign.Load(),
		Late:     s.late.Load(),
		Latched:  latched,
	}
}

// Close stops the reading of the session's socket and releases the port;
// once it returns, nothing of the session runs.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.stopCtx()
		s.rxMu.Lock()
		s.closing.Store(true)
		p := s.poller
		s.rxMu.Unlock()
		if p != nil {
			p.remove(s)
		}
		s.flood.Wait()
		s.tx.mu.Lock()
		s.tx.closed = true // the socket's number may be another file's once closed
		s.tx.mu.Unlock()
		s.closeErr = s.lease.Close()
	})
	return s.closeErr
}

// receive handles one datagram. It is the per-packet path: no allocation.
func (s *Session) receive(b []byte, src netip.AddrPort, now time.Time) {
	s.rxNow = now
	s.events.tick(now)
	if !plausibleRTP(b) {
		s.ignored.Add(1)
		return
	}
	if err := s.pkt.Unmarshal(b); err != nil {
		s.ignored.Add(1)
		return
	}
	pt := s.pkt.PayloadType
	s.mu.Lock()
	eventPT := s.neg.EventPT
	audio := pt == uint8(PCMU) || pt == uint8(PCMA)
	event := eventPT != 0 && pt == eventPT
	accepted := (audio || event) && s.acceptSource(src, s.pkt.SSRC, s.pkt.SequenceNumber)
	s.mu.Unlock()
	switch {
	case !audio && !event:
		s.ignored.Add(1)
		return
	case !accepted:
		s.foreign.Add(1)
		return
	}
	s.received.Add(1)
	if event {
		s.events.packet(s.pkt.SSRC, s.pkt.Timestamp, s.pkt.Payload, now)
		return
	}
	// Both G.711 laws are decoded whatever we negotiated: a phone that
	// switches law mid-call still has its digits heard.
	s.pcm = Codec(pt).Decode(s.pcm[:0], s.pkt.Payload)
	s.tones.feed(s.pcm)
	if r := s.rec.Load(); r != nil {
		r.add(s.pcm, s.pkt.Timestamp, now)
	}
	if s.echoOn.Load() {
		s.echoPacket(pt, s.pkt.Payload, s.pkt.Timestamp, s.pkt.Marker)
	}
}

// plausibleRTP checks the framing pion would reject, without pion's
// allocating errors: a flood of junk then costs no garbage. RTCP sent to
// the RTP port (PT 200-204, or anything in the RFC 5761 range 64-95 with
// the marker bit) is refused here too.
func plausibleRTP(b []byte) bool {
	if len(b) < 12 || b[0]>>6 != 2 {
		return false
	}
	if b[1] >= 192 && b[1] <= 223 {
		return false
	}
	hl := 12 + 4*int(b[0]&0x0f)
	if len(b) < hl {
		return false
	}
	if b[0]&0x10 != 0 {
		if len(b) < hl+4 {
			return false
		}
		hl += 4 + 4*(int(b[hl+2])<<8|int(b[hl+3]))
		if len(b) < hl {
			return false
		}
	}
	if b[0]&0x20 != 0 {
		pad := int(b[len(b)-1])
		if pad == 0 || len(b)-pad < hl {
			return false
		}
	}
	return true
}

// acceptSource applies symmetric RTP latching; s.mu is held.
func (s *Session) acceptSource(src netip.AddrPort, ssrc uint32, seq uint16) bool {
	if src != s.latched && !s.allowedSource(src.Addr()) {
		return false
	}
	if !s.latched.IsValid() {
		s.latchTo(src, "first RTP packet")
		return true
	}
	if src == s.latched {
		s.cand = candidate{}
		return true
	}
	c := &s.cand
	if c.addr == src && c.ssrc == ssrc && seq == c.seq+1 {
		c.n++
	} else {
		*c = candidate{addr: src, ssrc: ssrc, n: 1}
	}
	c.seq = seq
	if c.n < relatchAfter {
		return false
	}
	s.latchTo(src, "source moved")
	return true
}

// allowedSource: the host of the SDP address or of the signalling; any
// host when neither is known. s.mu is held.
func (s *Session) allowedSource(a netip.Addr) bool {
	sdp := s.neg.Remote.Addr().Unmap()
	sdpKnown := s.hasNeg && s.neg.Remote.IsValid() && !sdp.IsUnspecified()
	if !sdpKnown && !s.sigAddr.IsValid() {
		return true
	}
	return sdpKnown && a == sdp || s.sigAddr.IsValid() && a == s.sigAddr
}

func (s *Session) latchTo(src netip.AddrPort, why string) {
	s.log.Debug("rtp latched", "remote", src.String(), "reason", why)
	s.latched, s.cand = src, candidate{}
}

// destination is where our RTP goes now, if anywhere.
func (s *Session) destination() (netip.AddrPort, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hasNeg && !s.neg.Direction.Sends() {
		return netip.AddrPort{}, false // the peer holds us
	}
	if s.latched.IsValid() {
		return s.latched, true
	}
	r := s.neg.Remote
	confirmed := !s.sigAddr.IsValid() || r.Addr().Unmap() == s.sigAddr
	if s.hasNeg && r.IsValid() && !r.Addr().IsUnspecified() && r.Port() != 0 && confirmed {
		return r, true
	}
	return netip.AddrPort{}, false
}

// send writes one RTP packet. advance is the timestamp step from the
// previous packet when the stream is continuous; newSpurt starts a
// talkspurt: marker bit set and the timestamp moved on by the wall-clock
// time we were silent (RFC 3551 section 4.1).
func (s *Session) send(pt uint8, payload []byte, advance uint32, newSpurt bool) {
	dst, ok := s.destination()
	t := &s.tx
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if !ok {
		t.gap = true
		return
	}
	now := time.Now()
	switch {
	case !t.started:
		t.started, newSpurt = true, true
	case newSpurt || t.gap:
		newSpurt = true
		silent := uint32(now.Sub(t.lastAt) / (time.Second / 8000))
		t.hdr.Timestamp += max(silent, advance)
	default:
		t.hdr.Timestamp += advance
	}
	t.gap = false
	t.hdr.SequenceNumber++
	t.hdr.Marker = newSpurt
	t.hdr.PayloadType = pt
	n, err := t.hdr.MarshalTo(t.buf[:])
	if err != nil {
		return
	}
	n += copy(t.buf[n:], payload)
	t.lastAt = now
	if !s.sock.writeTo(t.buf[:n], dst) {
		return // the peer's problem (ICMP, no route): RTP is best effort
	}
	s.sent.Add(1)
}

// echoPacket returns a received frame under our own SSRC, sequence and
// timestamps, keeping the sender's timing: the timestamp moves by the same
// step as theirs did.
func (s *Session) echoPacket(pt uint8, payload []byte, ts uint32, marker bool) {
	spurt := marker
	if s.echoReset.Swap(false) || !s.echoPrimed {
		spurt, s.echoPrimed = true, true
	}
	adv := ts - s.echoLastTS
	if adv == 0 || adv > 8000 { // reordered, repeated or after a long gap
		adv = uint32(len(payload))
	}
	s.echoLastTS = ts
	s.send(pt, payload, adv, spurt)
}

// alive reports why the session cannot be used, if it cannot.
func (s *Session) alive(ctx context.Context) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	return ctx.Err()
}
