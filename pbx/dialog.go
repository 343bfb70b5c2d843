package pbx

import (
	"context"
	"time"

	"github.com/emiago/sipgo/sip"
)

// relayInDialog passes a request inside an established call (re-INVITE
// for hold/resume or a codec change, UPDATE, INFO) to the other leg and
// its final response back, so the two phones negotiate with each other.
func (s *Server) relayInDialog(req *sip.Request, tx sip.ServerTransaction) {
	c, from := s.calls.matchParty(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if c.ownMedia() != nil {
		s.answerFeatureInDialog(c, req, tx)
		return
	}
	to := c.other(from)
	if to == nil {
		if !c.isParty(from) {
			// Transferred away: this dialog is no longer part of a call.
			s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
			return
		}
		// Early dialog, or the other party is being replaced.
		s.respond(tx, req, 491, "Request Pending")
		return
	}
	other, target := to.leg, to.leg.remoteTarget()
	// The first party's side of a relay, also when a transfer has put
	// someone in the caller's place.
	fromA := c.isFirst(from)
	out := sip.NewRequest(req.Method, target)
	if ct := req.ContentType(); ct != nil {
		out.AppendHeader(sip.HeaderClone(ct))
	}
	out.SetBody(c.relaySDP(s, fromA, req.Body()))

	ctx, cancel := context.WithTimeout(s.ctx, 32*time.Second)
	defer cancel()
	otx, err := other.TransactionRequest(ctx, out)
	if err != nil {
		c.log.Warn("relaying in-dialog request", "method", req.Method, "err", err)
		s.respond(tx, req, 500, "Server Internal Error")
		return
	}
	defer otx.Terminate()
	for {
		select {
		case res := <-otx.Responses():
			if res.IsProvisional() {
				continue
			}
			if req.IsInvite() && res.IsSuccess() {
				// We ACK the other leg ourselves; the ACK the sender will
				// send us for our 200 is absorbed in onAck.
				ack := sip.NewRequest(sip.ACK, target)
				ack.AppendHeader(&sip.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sip.ACK})
				ack.AppendHeader(sip.HeaderClone(res.To()))
				if err := other.WriteRequest(ack); err != nil {
					c.log.Warn("ACK of relayed re-INVITE", "err", err)
				}
			}
			back := sip.NewResponseFromRequest(req, res.StatusCode, res.Reason, c.relaySDP(s, !fromA, res.Body()))
			if ct := res.ContentType(); ct != nil && len(res.Body()) > 0 {
				back.AppendHeader(sip.HeaderClone(ct))
			}
			if res.IsSuccess() && req.IsInvite() {
				back.AppendHeader(sip.HeaderClone(&s.dua.ContactHDR))
			}
			if err := tx.Respond(back); err != nil {
				c.log.Debug("relaying response", "err", err)
			}
			c.log.Info("relayed in-dialog request", "method", req.Method, "from_caller", fromA, "code", res.StatusCode)
			return
		case <-otx.Done():
			s.respond(tx, req, 408, "Request Timeout")
			return
		case <-ctx.Done():
			s.respond(tx, req, 408, "Request Timeout")
			return
		}
	}
}

// onAck confirms an answered dialog of a caller (or of a phone that
// picked a call up); ACKs of relayed re-INVITEs are absorbed (we
// acknowledged the other leg already).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c, from := s.calls.matchParty(req)
	if c == nil {
		return
	}
	if a, ok := from.leg.(*aLeg); ok && req.CSeq() != nil && req.CSeq().SeqNo == a.InviteRequest.CSeq().SeqNo {
		a.ReadAck(req, tx)
	}
}

// onBye ends the call from whichever side hung up.
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c, from := s.calls.matchParty(req)
	if c == nil {
		s.respond(tx, req, 481, "Call/Transaction Does Not Exist")
		return
	}
	if err := from.leg.ReadBye(req, tx); err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return
	}
	fromA := from.leg == partyLeg(c.a)
	if c.leaves(from) {
		// A transferor hanging up: the others' call goes on.
		c.log.Info("transferor hung up", "by_caller", fromA)
		return
	}
	c.log.Info("hangup", "by_caller", fromA)
	go c.hangup(context.Background())
}
