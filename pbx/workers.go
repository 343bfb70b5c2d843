package pbx

import (
	"runtime"
	"sync"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// registerJob is one REGISTER handed from sipgo's per-request goroutine
// to a long-lived worker, and, once its bindings are committed, back to
// a worker to be answered.
type registerJob struct {
	req    *sip.Request
	tx     sip.ServerTransaction
	ok     *registered // the 200 waiting for the commit
	added  *store.Extension
	commit error
	done   chan struct{} // answered (or given up on); nil when nobody waits
	udp    *udpTx        // taken by registerUDP: its 200 leaves through registerQueue.oks
}

// finished tells whoever waits for j that it is answered.
func (j *registerJob) finished() {
	if j.done != nil {
		j.done <- struct{}{}
	}
}

// registerQueue carries REGISTERs to the workers, and back to them once
// their bindings are committed.
type registerQueue struct {
	jobs    chan *registerJob
	answers chan *registerJob
	// batches carries the REGISTERs with credentials of one batched UDP
	// read (registerUDP), held until the read is handled.
	batches chan []*registerJob
	mu      sync.Mutex
	held    []*registerJob
	// challenges sends the stateless 401s of each batched read together
	// (nil when the socket is no UDPConn).
	challenges *udpOut
	sent401    func(error)
	// oks sends the 200s of each committed batch of bindings together
	// (nil when the socket is no UDPConn).
	oks *udpOut
}

var jobPool = sync.Pool{New: func() any { return &registerJob{done: make(chan struct{}, 1)} }}

// startRegisterWorkers runs REGISTERs on a few long-lived goroutines.
// sipgo starts a fresh goroutine per request, and answering grew its
// stack each time (copying it cost ~9% of the registrar's CPU); a worker
// grows its stack once. The handler goroutine waits for its job, since
// sipgo ends the transaction when the handler returns.
//
// A REGISTER that changes bindings is answered only once the binding
// writer has committed them (group commit): the worker hands the job to
// the writer and takes the next one; the writer's callback sends the 200
// of a REGISTER that came over UDP (registerUDP), already encoded, and
// queues any other job back to be answered by a worker.
func (s *Server) startRegisterWorkers() {
	s.registerJobs.jobs = make(chan *registerJob) // unbuffered: a job is always taken
	s.registerJobs.answers = make(chan *registerJob, 4*1024)
	s.registerJobs.sent401 = func(err error) {
		if err != nil {
			s.log.Debug("stateless 401 failed", "err", err)
			return // as a lost datagram: the phone retransmits
		}
		s.metrics.SIPResponse(string(sip.REGISTER), 401)
	}
	s.registerJobs.batches = make(chan []*registerJob) // unbuffered, as jobs
	if s.registerJobs.challenges = newUDPOut(s.udp); s.registerJobs.challenges != nil {
		// registerUDP, which holds jobs for readDone, serves only a
		// socket that is a UDPConn: the same condition.
		s.sip.OnUDPReadDone(s.readDone)
	}
	s.registerJobs.oks = newUDPOut(s.udp)
	n := 2 * runtime.GOMAXPROCS(0)
	s.wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer s.wg.Done()
			for {
				select {
				case j := <-s.registerJobs.answers:
					s.answerRegister(j)
				case j := <-s.registerJobs.jobs:
					s.handleRegister(j)
				case js := <-s.registerJobs.batches:
					for _, j := range js {
						s.handleRegister(j)
					}
				case <-s.ctx.Done():
					return
				}
			}
		}()
	}
}

func (s *Server) handleRegister(j *registerJob) {
	ok, changes, added := s.onRegister(j.req, j.tx)
	if ok == nil {
		j.finished()
		return
	}
	j.ok, j.added = ok, added
	if j.udp != nil {
		// Encoded here, where the workers share the CPU, rather than
		// on the binding writer's goroutine, which is alone.
		answer := ok.encode(j.req, j.udp.dst)
		if len(changes) == 0 {
			s.sendRegisterOK(j, answer)
			return
		}
		s.writer.Commit(changes, func(err error) {
			if err == nil {
				s.queueRegisterOK(j, answer)
				return
			}
			j.commit = err
			s.queueAnswer(j)
		})
		return
	}
	if len(changes) == 0 {
		s.answerRegister(j)
		return
	}
	s.writer.Commit(changes, func(err error) {
		j.commit = err
		s.queueAnswer(j)
	})
}

// queueAnswer has a worker answer j, whose commit is over; it runs on
// the binding writer's goroutine.
func (s *Server) queueAnswer(j *registerJob) {
	select {
	case s.registerJobs.answers <- j:
	default:
		// Every worker busy and the queue full: answer here rather
		// than hold up the writer.
		s.answerRegister(j)
	}
}

// answerRegister sends a REGISTER's answer: its 200 OK, or a 500 when
// the bindings could not be written (the phone retries; nothing it was
// told is saved is lost).
func (s *Server) answerRegister(j *registerJob) {
	var res *sip.Response
	if j.commit != nil {
		res = sip.NewResponseFromRequest(j.req, 500, "Server Internal Error", nil)
	} else {
		res = j.ok.response(j.req)
	}
	if err := j.tx.Respond(res); err != nil {
		s.log.Debug("respond to REGISTER", "err", err)
	}
	s.contactAddedAfter(j)
	j.finished()
}

// contactAddedAfter tells the observers of a contact j added, once j's
// answer went out.
func (s *Server) contactAddedAfter(j *registerJob) {
	if j.added != nil && j.commit == nil && len(s.onContactAdded) > 0 && s.ctx.Err() == nil {
		// After the 200: the phone is ready for what the observers send
		// it, and a slow one does not hold up the registrar.
		// In s.wg, so that shutdown waits for it.
		s.wg.Add(1)
		go func(ext *store.Extension) {
			defer s.wg.Done()
			s.contactAdded(ext)
		}(j.added)
	}
}

// queueRegister is the REGISTER handler sipgo calls.
func (s *Server) queueRegister(req *sip.Request, tx sip.ServerTransaction) {
	j := jobPool.Get().(*registerJob)
	j.req, j.tx = req, tx
	select {
	case s.registerJobs.jobs <- j:
	case <-s.ctx.Done():
		s.respond(tx, req, 503, "Service Unavailable")
		jobPool.Put(j)
		return
	}
	select {
	case <-j.done:
		*j = registerJob{done: j.done}
		jobPool.Put(j)
	case <-s.ctx.Done():
		// Shutting down: the job may still be answered, so it is not
		// reused.
	}
}
