package pbx

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// Transfers (RFC 3515 REFER). deskpbx owns both dialogs of every call,
// so it carries a transfer out itself rather than asking the phones to:
// the remaining party is re-INVITEd with the target's SDP and media
// flows phone to phone, as on any call. Phones need only re-INVITE (which
// hold already uses), not INVITE with Replaces or Referred-By, and the
// target is reached through the dial plan, as the transferor, so a
// transfer can reach nobody its transferor could not call.

// transferState is a transfer in progress in a call.
type transferState struct {
	transferor *party
	left       bool // the transferor hung up while the target rang
}

// onRefer answers a REFER: from a party of a bridged call, blind (a
// number) or attended (Replaces naming the transferor's other call).
func (s *Server) onRefer(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to == nil || !to.Params.Has("tag") {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	c, from := s.calls.matchParty(req)
	if c == nil || !c.isParty(from) {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if req.GetHeader("Refer-To") == nil {
		s.respond(tx, req, 400, "Missing Refer-To")
		return
	}
	rt := req.ReferTo()
	if rt == nil || rt.Address.User == "" {
		s.respond(tx, req, 400, "Bad Refer-To")
		return
	}
	if c.other(from) == nil || c.ownMedia() != nil {
		s.respond(tx, req, 403, "No Call To Transfer")
		return
	}
	if from.outside() {
		c.log.Warn("transfer refused: asked by the outside party of a trunk call", "refer_to", rt.Address.String())
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	if replaces, ok := replacesOf(rt.Address); ok {
		s.attendedTransfer(c, from, replaces, req, tx)
		return
	}
	s.blindTransfer(c, from, rt.Address, req, tx)
}

// replacesOf is the dialog a Refer-To's Replaces header names (RFC 3891:
// call-id;to-tag=..;from-tag=..), as the two dialog IDs it may be in our
// table under, whichever way round the phone wrote the tags.
func replacesOf(u sip.Uri) ([2]string, bool) {
	if u.Headers == nil {
		return [2]string{}, false
	}
	raw, ok := u.Headers.Get("Replaces")
	if !ok {
		if raw, ok = u.Headers.Get("replaces"); !ok {
			return [2]string{}, false
		}
	}
	if v, err := url.PathUnescape(raw); err == nil {
		raw = v
	}
	parts := strings.Split(raw, ";")
	callID, toTag, fromTag := strings.TrimSpace(parts[0]), "", ""
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			toTag = v
		case "from-tag":
			fromTag = v
		}
	}
	return [2]string{sip.DialogIDMake(callID, toTag, fromTag), sip.DialogIDMake(callID, fromTag, toTag)}, true
}

// blindTransfer calls target as the transferor would, answers 202 and
// reports progress; on an answer the remaining party talks to the
// target and the transferor's leg ends.
func (s *Server) blindTransfer(c *call, from *party, target sip.Uri, req *sip.Request, tx sip.ServerTransaction) {
	if !s.sameTenantHost(target.Host, from.person) {
		c.log.Info("transfer refused: another tenant's number", "target", target.String())
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	route := s.dialPlan.Route(s.ctx, &CallRequest{Caller: from.phone, Dialled: target.User, Source: req.Source()})
	if route.Ring == nil && route.Outside == nil {
		// A number the transferor may not call (or that does not exist:
		// we say no more than "forbidden"), or a feature, which nobody
		// can be transferred to yet.
		if route.Reject != nil && route.Reject.Err != nil {
			c.log.Error("dial plan failed for transfer", "reason", route.Reject.Reason, "err", route.Reject.Err)
			s.respond(tx, req, 500, "Server Internal Error")
			return
		}
		c.log.Info("transfer refused by the dial plan", "target", target.User)
		s.respond(tx, req, 403, "Forbidden")
		return
	}
	if !c.startTransfer(from) {
		s.respond(tx, req, 491, "Request Pending")
		return
	}
	rest := c.other(from)
	if rest == nil { // hung up since onRefer looked
		c.endTransfer()
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	s.respond(tx, req, 202, "Accepted")
	if route.Outside != nil {
		s.blindTransferOut(c, from, rest, route, req)
		return
	}
	log := c.log.With("transfer", "blind", "by", from.person.AOR(), "to", route.Ring.Callee.AOR())
	log.Info("blind transfer")
	progress := s.newReferNotifier(c, from)
	progress.report("100 Trying")

	var ringingOnce sync.Once // each ringing phone reports its 180
	r := &ringing{log: log, gaveUp: rest.done(), over: c.done,
		invite: func(b store.Binding) *sip.Request {
			// No offer: the target's answer brings one, which the
			// remaining party gets in a re-INVITE and answers (RFC 3725
			// flow I). Its last SDP may say a=recvonly (held by the
			// transferor) and must not be offered again.
			return s.newCalleeInvite(sip.NewRequest(sip.INVITE, target), rest.person, route.Ring.Callee, b)
		},
		progress: func(res *sip.Response) error {
			if res.StatusCode == 180 {
				ringingOnce.Do(func() { progress.report("180 Ringing") })
			}
			return nil
		}}
	leg, final := s.ringPhones(r, s.location.Lookup(route.Ring.Target.ID))
	ev := Handover{Kind: "transfer-blind", By: from.person, Phone: from.phone, Party: rest.person.AOR(),
		To: route.Ring.Callee.AOR(), CallID: c.a.InviteRequest.CallID().Value(), Source: req.Source()}
	if leg == nil {
		if route.Ring.NoAnswer != nil && final != 0 && !c.over() && !s.draining.Load() {
			log.Info("transfer target did not answer: answering ourselves", "code", final, "feature", route.Ring.NoAnswer.Name)
			s.transferToOwnMedia(c, from, rest, route.Ring, progress, ev)
			return
		}
		s.failTransfer(c, progress, orStatus(final, 487), ev)
		return
	}
	to := &party{leg: leg, phone: route.Ring.Target, person: route.Ring.Callee}
	if err := s.connectTarget(c, rest, leg); err != nil {
		log.Info("transfer target could not be connected", "err", err)
		byeCtx(context.Background(), leg.Bye)
		s.failTransfer(c, progress, 488, ev)
		return
	}
	s.completeTransfer(c, from, to, progress, ev)
}

func orStatus(code, otherwise int) int {
	if code == 0 {
		return otherwise
	}
	return code
}

// sameTenantHost says whether a Refer-To host may be dialled as the
// transferor: anything but another tenant's domain. The number is looked
// up in the transferor's tenant whatever the host says (an address of
// ours, the registrar's name), so only a host naming another tenant can
// mean a number the transferor may not reach.
func (s *Server) sameTenantHost(host string, person *store.Extension) bool {
	if host == "" || strings.EqualFold(host, person.Domain) || store.IsIPHost(host) {
		return true
	}
	t, err := s.db.TenantByDomain(s.ctx, strings.ToLower(host))
	return err != nil || t.ID == person.TenantID
}

// startTransfer marks a transfer in progress by from; false when one
// already is.
func (c *call) startTransfer(from *party) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.transfer != nil || c.ended {
		return false
	}
	c.transfer = &transferState{transferor: from}
	return true
}

// leaves says whether p hanging up leaves the call to the others: p was
// replaced already, or is a transferor whose target still rings (the
// transfer goes on without it).
func (c *call) leaves(p *party) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, q := range c.parties {
		if q != p {
			continue
		}
		if t := c.transfer; t != nil && t.transferor == p {
			t.left = true
			c.parties[i] = nil
			c.signalSwap()
			return true
		}
		return false
	}
	return true
}

// signalSwap wakes hold to watch the call's new parties; c.mu held.
func (c *call) signalSwap() {
	select {
	case c.swapped <- struct{}{}:
	default:
	}
}

// completeTransfer puts to in from's place, tells the transferor it
// worked and ends its leg.
func (s *Server) completeTransfer(c *call, from, to *party, progress *referNotifier, ev Handover) {
	c.mu.Lock()
	for i, q := range c.parties {
		if q == from || (q == nil && c.transfer.transferor == from) {
			c.parties[i] = to
		}
	}
	c.transfer = nil
	c.transferredBy, c.transferredTo = from.person.AOR(), to.person.AOR()
	c.signalSwap()
	c.mu.Unlock()
	s.calls.add(c, to)
	s.observeTransfer(c, from, c.other(to), to.person)
	progress.finish("200 OK")
	byeCtx(context.Background(), from.leg.Bye)
	c.log.Info("transferred", "by", from.person.AOR(), "to", to.person.AOR())
	ev.OK = true
	s.handover(ev)
}

// failTransfer tells the transferor the transfer failed with code; the
// call goes on as before, or ends if the transferor has hung up.
func (s *Server) failTransfer(c *call, progress *referNotifier, code int, ev Handover) {
	c.mu.Lock()
	left := c.transfer != nil && c.transfer.left
	c.transfer = nil
	c.mu.Unlock()
	c.log.Info("transfer failed", "code", code, "transferor_left", left)
	progress.finish(fmt.Sprintf("%d %s", code, reasonPhrase(code)))
	ev.Status = fmt.Sprint(code)
	s.handover(ev)
	if left {
		c.hangup(context.Background())
	}
}

// referNotifier reports a transfer's progress to the transferor (RFC
// 3515 §2.4.4): the target's status line as a sipfrag, the last one
// ending the implicit subscription. The NOTIFYs go one at a time, in
// order, from a goroutine of their own: progress arrives on a ringing
// leg's goroutine, which must not wait for the transferor's phone.
type referNotifier struct {
	queue chan referStatus
	done  chan struct{}
}

type referStatus struct {
	line  string
	final bool
}

func (s *Server) newReferNotifier(c *call, to *party) *referNotifier {
	n := &referNotifier{queue: make(chan referStatus, 8), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		for st := range n.queue {
			s.notifyRefer(c, to, st.line, st.final)
		}
	}()
	return n
}

// report queues a status line; it never blocks (a ringing leg reports
// at most a few).
func (n *referNotifier) report(line string) {
	select {
	case n.queue <- referStatus{line: line}:
	default:
	}
}

// finish sends the final status once the others have gone.
func (n *referNotifier) finish(line string) {
	n.queue <- referStatus{line: line, final: true}
	close(n.queue)
	<-n.done
}

// notifyRefer sends one NOTIFY; a transferor that hung up is not told.
func (s *Server) notifyRefer(c *call, to *party, status string, final bool) {
	if closed(to.done()) {
		return
	}
	req := sip.NewRequest(sip.NOTIFY, to.leg.remoteTarget())
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte("SIP/2.0 " + status + "\r\n"))
	ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
	defer cancel()
	if _, err := inDialogDo(ctx, to.leg, req); err != nil {
		c.log.Info("NOTIFY to transferor failed", "status", status, "err", err)
	}
}
