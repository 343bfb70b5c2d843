package pbx

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Joining two phones after a transfer: deskpbx is the middle of both
// dialogs, so it runs the offer/answer between them as a third party
// (RFC 3725 flow I): one phone offers (its answer to our offerless
// INVITE or re-INVITE), the other gets that offer in a re-INVITE, and its
// answer goes back in the first phone's ACK. Each phone's own, current
// SDP is what the other sees, never one from before a hold.

// inDialogDo sends req in leg's dialog and waits for its final response.
func inDialogDo(ctx context.Context, leg partyLeg, req *sip.Request) (*sip.Response, error) {
	tx, err := leg.TransactionRequest(ctx, req)
	if err != nil {
		return nil, err
	}
	defer tx.Terminate()
	for {
		select {
		case res := <-tx.Responses():
			if res.IsProvisional() {
				continue
			}
			return res, nil
		case <-tx.Done():
			return nil, tx.Err()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// reinvite is a re-INVITE of ours that a phone accepted, to be ACKed.
type reinvite struct {
	p   *party
	res *sip.Response
}

// sendReinvite re-INVITEs p with offer (nil: none, to get p's offer in
// its 200) and returns once p accepted it; the caller must ack it.
func sendReinvite(ctx context.Context, p *party, offer []byte) (*reinvite, error) {
	req := sip.NewRequest(sip.INVITE, p.leg.remoteTarget())
	if offer != nil {
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		req.SetBody(offer)
	}
	res, err := inDialogDo(ctx, p.leg, req)
	if err != nil {
		return nil, err
	}
	if !res.IsSuccess() {
		return nil, fmt.Errorf("re-INVITE answered %d", res.StatusCode)
	}
	return &reinvite{p: p, res: res}, nil
}

// ack acknowledges the re-INVITE, with answer (our SDP answer to the
// phone's offer) when the re-INVITE had none.
func (r *reinvite) ack(answer []byte) error {
	ack := sip.NewRequest(sip.ACK, r.p.leg.remoteTarget())
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: r.res.CSeq().SeqNo, MethodName: sip.ACK})
	if answer != nil {
		ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ack.SetBody(answer)
	}
	return r.p.leg.WriteRequest(ack)
}

// connectAnswered joins rest to a phone that answered our offerless
// INVITE: rest gets the phone's offer in a re-INVITE, the phone gets
// rest's answer in its ACK, both through a's relay if a is not nil. On
// failure leg is ACKed (it answered) but not hung up.
func (s *Server) connectAnswered(rest *party, leg *bLeg, a *mediaAnchor) error {
	ctx, cancel := context.WithTimeout(s.ctx, 16*time.Second)
	defer cancel()
	if len(leg.InviteResponse.Body()) == 0 {
		leg.Ack(ctx)
		return errors.New("the target answered without SDP")
	}
	offer, err := a.pass(s, joinsSide, leg.InviteResponse.Body())
	if err != nil {
		leg.Ack(ctx)
		return fmt.Errorf("the target's offer: %w", err)
	}
	r, err := sendReinvite(ctx, rest, offer)
	if err != nil {
		leg.Ack(ctx)
		return err
	}
	if err := r.ack(nil); err != nil {
		leg.Ack(ctx)
		return err
	}
	answer, err := a.pass(s, staysSide, r.res.Body())
	if err != nil {
		leg.Ack(ctx)
		return err
	}
	ack := sip.NewRequest(sip.ACK, leg.remoteTarget())
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	ack.SetBody(answer)
	return leg.WriteAck(ctx, ack)
}

// join connects two phones already in calls of ours: x offers (an
// offerless re-INVITE), y answers in its re-INVITE, x gets y's answer in
// its ACK, both through a's relay if a is not nil. If y refuses, x's ACK
// carries fallback (the SDP x had from the transferor), so that x stays
// where it was rather than half-negotiated.
func (s *Server) join(x, y *party, fallback []byte, a *mediaAnchor) error {
	ctx, cancel := context.WithTimeout(s.ctx, 16*time.Second)
	defer cancel()
	rx, err := sendReinvite(ctx, x, nil)
	if err != nil {
		return fmt.Errorf("asking %s for an offer: %w", x.person.AOR(), err)
	}
	if len(rx.res.Body()) == 0 {
		rx.ack(nil)
		return fmt.Errorf("%s offered no SDP", x.person.AOR())
	}
	offer, err := a.pass(s, staysSide, rx.res.Body())
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("%s's offer: %w", x.person.AOR(), err)
	}
	ry, err := sendReinvite(ctx, y, offer)
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("offering to %s: %w", y.person.AOR(), err)
	}
	if err := ry.ack(nil); err != nil {
		return err
	}
	answer, err := a.pass(s, joinsSide, ry.res.Body())
	if err != nil {
		rx.ack(fallback)
		return fmt.Errorf("%s's answer: %w", y.person.AOR(), err)
	}
	return rx.ack(answer)
}

// sdpFrom is the SDP p's phone sent when its call was set up: the offer
// of a caller, the answer of a callee.
func sdpFrom(p *party) []byte {
	switch l := p.leg.(type) {
	case *aLeg:
		return l.InviteRequest.Body()
	case *bLeg:
		return l.InviteResponse.Body()
	}
	return nil
}
