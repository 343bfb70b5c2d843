package testphone

import (
	"context"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Transfers, as a phone does them: REFER within a call, from either
// side, and the NOTIFYs that report how the transfer went.

// UseMedia makes the phone's SDP answers (to calls and re-INVITEs) give
// m's port, so that RTP sent to the phone reaches m.
func (p *Phone) UseMedia(m *Media) {
	p.mu.Lock()
	p.rtpPort = m.Port()
	p.mu.Unlock()
}

func (p *Phone) answerPort() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rtpPort == 0 {
		return 4002
	}
	return p.rtpPort
}

// AnswerWith answers a call left ringing (RingForever) with sdp, as a
// person picking up the handset after a while.
func (in *IncomingCall) AnswerWith(sdp []byte) { in.answerNow <- sdp }

// Call is one of the phone's calls, whichever side placed it: a
// *sipgo.DialogClientSession (it dialled) or a *sipgo.DialogServerSession
// (it answered).
type Call interface {
	Do(context.Context, *sip.Request) (*sip.Response, error)
}

// RemoteTarget is where requests within call go: the PBX's Contact.
func RemoteTarget(call Call) sip.Uri {
	switch d := call.(type) {
	case *sipgo.DialogClientSession:
		return d.InviteResponse.Contact().Address
	case *sipgo.DialogServerSession:
		return d.InviteRequest.Contact().Address
	}
	panic("testphone: not a call")
}

// Refer asks the PBX to transfer call to referTo (a URI such as
// "<sip:1003@acme.example>", "" to send no Refer-To) and returns its
// answer (202 when it took the transfer on).
func Refer(ctx context.Context, call Call, referTo string) (*sip.Response, error) {
	req := sip.NewRequest(sip.REFER, RemoteTarget(call))
	if referTo != "" {
		req.AppendHeader(sip.NewHeader("Refer-To", referTo))
	}
	req.AppendHeader(sip.NewHeader("Referred-By", "<sip:transferor@invalid>"))
	return call.Do(ctx, req)
}

// ReplacesOf is the Refer-To of an attended transfer to the other party
// of call (which the transferor holds too): the URI of user with a
// Replaces header naming call's dialog as the PBX knows it (RFC 3891).
func ReplacesOf(user, domain string, call Call) string {
	var callID, localTag, remoteTag string
	switch d := call.(type) {
	case *sipgo.DialogClientSession:
		callID = d.InviteRequest.CallID().Value()
		localTag, _ = d.InviteRequest.From().Params.Get("tag")
		remoteTag, _ = d.InviteResponse.To().Params.Get("tag")
	case *sipgo.DialogServerSession:
		callID = d.InviteRequest.CallID().Value()
		localTag, _ = d.InviteResponse.To().Params.Get("tag")
		remoteTag, _ = d.InviteRequest.From().Params.Get("tag")
	}
	replaces := callID + ";to-tag=" + remoteTag + ";from-tag=" + localTag
	esc := strings.NewReplacer("%", "%25", ";", "%3B", "=", "%3D", "@", "%40", " ", "%20")
	return "<sip:" + user + "@" + domain + "?Replaces=" + esc.Replace(replaces) + ">"
}

// Sipfrag is the status line a NOTIFY of a transfer reports, e.g.
// "SIP/2.0 180 Ringing", and whether it ends the subscription.
func Sipfrag(notify *sip.Request) (status string, final bool) {
	status, _, _ = strings.Cut(string(notify.Body()), "\r\n")
	st := notify.GetHeader("Subscription-State")
	return status, st != nil && strings.HasPrefix(st.Value(), "terminated")
}
