package pbx

import (
	"runtime"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// registerJob is one REGISTER handed from sipgo's per-request goroutine
// to a long-lived worker.
type registerJob struct {
	req  *sip.Request
	tx   sip.ServerTransaction
	done chan struct{}
}

var doneChans = sync.Pool{New: func() any { return make(chan struct{}, 1) }}

// startRegisterWorkers runs REGISTERs on a few long-lived goroutines.
// sipgo starts a fresh goroutine per request, and answering grew its
// stack each time (copying it cost ~9% of the registrar's CPU); a worker
// grows its stack once. The handler goroutine waits for its job, since
// sipgo ends the transaction when the handler returns.
func (s *Server) startRegisterWorkers() {
	s.registerJobs = make(chan registerJob) // unbuffered: a job is always taken
	n := 2 * runtime.GOMAXPROCS(0)
	s.wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer s.wg.Done()
			for {
				select {
				case j := <-s.registerJobs:
					s.onRegister(j.req, j.tx)
					j.done <- struct{}{}
				case <-s.ctx.Done():
					return
				}
			}
		}()
	}
}

// queueRegister is the REGISTER handler sipgo calls.
func (s *Server) queueRegister(req *sip.Request, tx sip.ServerTransaction) {
	done := doneChans.Get().(chan struct{})
	select {
	case s.registerJobs <- registerJob{req: req, tx: tx, done: done}:
		<-done
		doneChans.Put(done)
	case <-s.ctx.Done():
		s.respond(tx, req, 503, "Service Unavailable")
	}
}
