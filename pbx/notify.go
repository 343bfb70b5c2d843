package pbx

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// notifyTimeout bounds one NOTIFY transaction: Timer F (64*T1) over UDP.
const notifyTimeout = 32 * time.Second

// kick marks sub's state changed and makes sure one goroutine is sending
// its NOTIFYs. One sender per subscription keeps its CSeq and version
// increasing in the order the phone receives them.
func (t *subscriptions) kick(s *Server, sub *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sub.done || t.closed {
		return
	}
	sub.dirty = true
	if sub.sending {
		return
	}
	sub.sending = true
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		s.deliver(sub)
	}()
}

// deliver sends NOTIFYs until sub has no change left to report.
func (s *Server) deliver(sub *subscription) {
	for {
		t := s.subs
		t.mu.Lock()
		if !sub.dirty || sub.done || t.closed {
			sub.sending = false
			t.mu.Unlock()
			return
		}
		sub.dirty = false
		state := "active;expires=" + strconv.Itoa(max(int(time.Until(sub.expires).Round(time.Second)/time.Second), 0))
		if sub.terminated {
			state = "terminated"
			if sub.reason != "" {
				state += ";reason=" + sub.reason
			}
			sub.done = true
		}
		t.mu.Unlock()

		ct, body := sub.pkg.Body(s.ctx, sub.resource, sub.version)
		sub.version++
		req := s.newNotify(sub, state, ct, body)
		sub.cseq++
		code, err := s.sendNotify(req, sub.source, sub.transport)
		if err == nil && code < 300 {
			continue
		}
		s.log.Info("NOTIFY failed: subscription ended", "aor", sub.ext.AOR(), "event", sub.event,
			"resource", sub.resource, "code", code, "err", err)
		// RFC 6665 §4.2.2: a phone that answers 481 or does not answer
		// has forgotten the subscription (or is gone): so do we.
		t.mu.Lock()
		t.removeLocked(sub, "")
		sub.done = true
		t.mu.Unlock()
	}
}

// newNotify builds the NOTIFY for sub in its dialog, with our own CSeq.
func (s *Server) newNotify(sub *subscription, state, contentType string, body []byte) *sip.Request {
	req := sip.NewRequest(sip.NOTIFY, sub.target)
	from := &sip.FromHeader{Address: sub.local, Params: sip.NewParams()}
	from.Params.Add("tag", sub.localTag)
	to := &sip.ToHeader{Address: sub.remote, Params: sip.NewParams()}
	to.Params.Add("tag", sub.remoteTag)
	callID := sip.CallIDHeader(sub.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: sub.cseq, MethodName: sip.NOTIFY})
	contact := s.dua.ContactHDR
	req.AppendHeader(&contact)
	req.AppendHeader(sip.NewHeader("Event", sub.eventHdr))
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	if len(body) > 0 {
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
	}
	req.SetBody(body)
	return req
}

// sendNotify sends req to source over transport, as calls to a registered
// phone are sent, and returns the final status.
func (s *Server) sendNotify(req *sip.Request, source, transport string) (int, error) {
	req.SetDestination(source)
	req.SetTransport(strings.ToUpper(transport))
	s.sendFromListener(store.Binding{Source: source, Transport: transport})
	ctx, cancel := context.WithTimeout(s.ctx, notifyTimeout)
	defer cancel()
	res, err := s.client.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	return res.StatusCode, nil
}

// NotifyUnsolicited sends a NOTIFY outside any subscription to every
// binding of ext that holds no subscription to event: the way phones that
// never subscribe to message-summary get their light (RFC 3842 §3 notes
// the practice). It returns how many phones accepted it.
func (s *Server) NotifyUnsolicited(ctx context.Context, ext *store.Extension, event, contentType string, body []byte) (int, error) {
	if s.ctx == nil {
		return 0, errors.New("pbx: not started")
	}
	event = strings.ToLower(event)
	accepted := 0
	var errs []error
	for _, b := range s.location.Lookup(ext.ID) {
		if s.subs.has(ext.ID, b.Source, event) {
			continue
		}
		var target sip.Uri
		if err := sip.ParseUri(b.Contact, &target); err != nil {
			continue
		}
		aor := sip.Uri{Scheme: "sip", User: ext.Number, Host: ext.Domain}
		req := sip.NewRequest(sip.NOTIFY, target)
		from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(16))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
		contact := s.dua.ContactHDR
		req.AppendHeader(&contact)
		req.AppendHeader(sip.NewHeader("Event", event))
		req.AppendHeader(sip.NewHeader("Content-Type", contentType))
		req.SetBody(body)
		if ctx.Err() != nil {
			return accepted, ctx.Err()
		}
		code, err := s.sendNotify(req, b.Source, b.Transport)
		switch {
		case err != nil:
			errs = append(errs, err)
		case code < 300:
			accepted++
		}
	}
	return accepted, errors.Join(errs...)
}
