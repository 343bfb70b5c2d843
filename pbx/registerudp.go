package pbx

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// registerUDP takes a REGISTER over UDP with credentials from the
// socket's reading goroutine to the register workers without a sipgo
// transaction. What a transaction gave, absorbing retransmissions, a
// replyCache gives for far less: the bytes of the answer, not the parsed
// request, response, FSM, timers and goroutine, for Timer J. Under a
// registration storm those transactions were most of the live heap and
// a sixth of the CPU. The 200 is still sent only once the binding is
// committed (answerRegister, after the binding writer's callback).
func (s *Server) registerUDP(req *sip.Request, udp *net.UDPConn) bool {
	via := req.Via()
	branch, _ := via.Params.Get("branch")
	dst, err := netip.ParseAddrPort(req.Source())
	if err != nil || !strings.HasPrefix(branch, sip.RFC3261BranchMagicCookie) {
		return false // RFC 2543 matching is sipgo's to do
	}
	key := registerReplyKey(branch, via.Host, via.Port, req.Source())
	switch answer, seen := s.registerReplies.begin(key); {
	case seen && answer != nil:
		udp.WriteToUDPAddrPort(answer, dst)
		return true
	case seen:
		return true // still being worked on: its answer will come
	}
	tx := &udpTx{s: s, udp: udp, dst: dst, key: key}
	job := &registerJob{udp: tx} // nobody waits for it: no done
	s.vet(func(req *sip.Request, tx sip.ServerTransaction) {
		job.req, job.tx = req, tx
		s.registerJobs.hold(job)
	})(req, tx)
	return true
}

// hold keeps j until the socket's batched read is handled (readDone):
// its REGISTERs then go to a worker together, waking one goroutine per
// batch rather than one per REGISTER.
func (q *registerQueue) hold(j *registerJob) {
	q.mu.Lock()
	q.held = append(q.held, j)
	q.mu.Unlock()
}

// readDone runs on the socket's reading goroutine once a batched read is
// handled: its 401s leave in one sendmmsg, and its REGISTERs with
// credentials go to a worker.
func (s *Server) readDone() {
	q := &s.registerJobs
	q.challenges.flush()
	q.mu.Lock()
	jobs := q.held
	q.held = nil
	q.mu.Unlock()
	if len(jobs) == 0 {
		return
	}
	select {
	case q.batches <- jobs:
	default:
		// Every worker busy: queue them without holding up the socket.
		go func() {
			select {
			case q.batches <- jobs:
			case <-s.ctx.Done():
			}
		}()
	}
}

// udpTx stands in for a server transaction for registerUDP: Respond
// writes the answer to the phone and keeps it for retransmissions. Only
// Respond is used on the registrar's path; the embedded interface is nil.
type udpTx struct {
	sip.ServerTransaction
	s   *Server
	udp *net.UDPConn
	dst netip.AddrPort
	key replyKey
}

func (t *udpTx) Respond(res *sip.Response) error { return t.send(encodeResponse(res)) }

// send keeps answer for retransmissions of the request, then sends it.
func (t *udpTx) send(answer []byte) error {
	t.keep(answer)
	_, err := t.udp.WriteToUDPAddrPort(answer, t.dst)
	return err
}

// keep has answer resent to retransmissions of the request: before it is
// sent, so that none can come in between and go unanswered.
func (t *udpTx) keep(answer []byte) { t.s.registerReplies.finish(t.key, answer) }

// encodeResponse is res as sent.
func encodeResponse(res *sip.Response) []byte {
	buf := challengeBufs.Get().(*bytes.Buffer)
	defer challengeBufs.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	return bytes.Clone(buf.Bytes())
}

// sendRegisterOK sends j's 200, already encoded as answer, when there
// was no binding to commit: kept for retransmissions first, as Respond
// does, then written at once.
func (s *Server) sendRegisterOK(j *registerJob, answer []byte) {
	s.registerOKSent(j, j.udp.send(answer))
}

// queueRegisterOK has j's 200, already encoded as answer, sent with the
// others of its committed batch of bindings (flushRegisterOKs, once the
// binding writer has called back for the whole batch): one sendmmsg a
// batch instead of a sendto each, which was a sixth of deskpbx's CPU
// samples under a registration storm (pprof; 7-13% sent so, most of it
// the kernel's loopback delivery, per datagram either way). It runs on
// the writer's goroutine, so it is kept for retransmissions at once,
// before it is sent, as Respond does.
func (s *Server) queueRegisterOK(j *registerJob, answer []byte) {
	out := s.registerJobs.oks
	if out == nil {
		s.sendRegisterOK(j, answer)
		return
	}
	j.udp.keep(answer)
	out.queue(udpDatagram{b: answer, dst: j.udp.dst, sent: func(err error) { s.registerOKSent(j, err) }})
}

// flushRegisterOKs sends the 200s queueRegisterOK queued for the batch
// the binding writer has just committed.
func (s *Server) flushRegisterOKs() {
	if out := s.registerJobs.oks; out != nil {
		out.flush()
	}
}

// registerOKSent finishes j once its 200 went out (or failed to, as a
// lost datagram would: the phone retransmits and gets the kept answer).
func (s *Server) registerOKSent(j *registerJob, err error) {
	if err != nil {
		s.log.Debug("respond to REGISTER", "err", err)
	} else {
		s.metrics.SIPResponse(string(j.req.Method), 200)
	}
	s.contactAddedAfter(j)
	j.finished()
}

// replyKey names a REGISTER and its retransmissions: 128 bits of keyed
// hash over what identifies them. A fixed-size key, rather than the
// string it hashes, is one allocation and some 80 bytes less for each of
// the hundreds of thousands of answers kept under a registration storm,
// and cheaper to look up.
type replyKey [2]uint64

var replyKeySeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// registerReplyKey is the key of a REGISTER over UDP: RFC 3261 §17.2.3's
// branch and sent-by (and the method: REGISTER alone comes here), and
// the source too, so nobody else's copy matches.
func registerReplyKey(branch, host string, port int, source string) replyKey {
	var k replyKey
	var p [8]byte
	binary.LittleEndian.PutUint64(p[:], uint64(port))
	for i, seed := range replyKeySeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(branch)
		h.WriteByte(0)
		h.WriteString(host)
		h.WriteByte(0)
		h.Write(p[:])
		h.WriteByte(0)
		h.WriteString(source)
		k[i] = h.Sum64()
	}
	return k
}

// replyCache remembers answers for between keep and twice keep, in two
// generations swapped every keep: no timer or sweep per entry.
type replyCache struct {
	mu        sync.Mutex
	keep      time.Duration
	cur, prev map[replyKey][]byte // nil value: being worked on
	swapped   time.Time
}

func newReplyCache(keep time.Duration) *replyCache {
	return &replyCache{keep: keep, cur: map[replyKey][]byte{}, prev: map[replyKey][]byte{}, swapped: time.Now()}
}

// begin returns the answer kept for key, and whether key was seen; an
// unseen key is recorded as being worked on.
func (c *replyCache) begin(key replyKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotateLocked()
	if a, ok := c.cur[key]; ok {
		return a, true
	}
	if a, ok := c.prev[key]; ok {
		return a, true
	}
	c.cur[key] = nil
	return nil, false
}

// rotate forgets what is older than twice keep; begin does it too, and
// the sweep when no REGISTER comes.
func (c *replyCache) rotate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotateLocked()
}

func (c *replyCache) rotateLocked() {
	if now := time.Now(); now.Sub(c.swapped) >= c.keep {
		c.prev, c.cur, c.swapped = c.cur, make(map[replyKey][]byte, len(c.cur)), now
	}
}

// finish keeps answer for key's retransmissions.
func (c *replyCache) finish(key replyKey, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.prev[key]; ok {
		c.prev[key] = answer
		return
	}
	c.cur[key] = answer
}
