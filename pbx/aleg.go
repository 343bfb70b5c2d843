package pbx

import (
	"sync"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// aLeg is the caller's side of a call: the server dialog of its INVITE.
type aLeg struct {
	*sipgo.DialogServerSession

	mu          sync.Mutex
	sentRinging bool

	// earlySDP, if set, rewrites the SDP of a 183 before the caller sees
	// it (a relayed call must not hand out a phone's address).
	earlySDP func([]byte) []byte
}

// acceptALeg makes the INVITE of a new call a dialog of ours.
func (s *Server) acceptALeg(req *sip.Request, tx sip.ServerTransaction) (*aLeg, bool) {
	d, err := s.dua.ReadInvite(req, tx)
	if err != nil {
		s.respond(tx, req, 400, "Bad Request")
		return nil, false
	}
	return &aLeg{DialogServerSession: d}, true
}

// progress passes a ringing phone's 180 or 183 on to the caller: every
// 183 (it may carry early media), but one 180 however many phones ring.
// It may be called from each B-leg's goroutine at once, and never fails
// the ringing leg: a caller that missed a 180 still gets the answer.
func (a *aLeg) progress(res *sip.Response) error {
	if res.StatusCode != 180 && res.StatusCode != 183 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if res.StatusCode == 180 && a.sentRinging {
		return nil
	}
	a.sentRinging = a.sentRinging || res.StatusCode == 180
	var hdrs []sip.Header
	if ct := res.ContentType(); ct != nil && len(res.Body()) > 0 {
		hdrs = append(hdrs, sip.HeaderClone(ct))
	}
	body := res.Body()
	if a.earlySDP != nil && len(body) > 0 {
		body = a.earlySDP(body)
	}
	a.Respond(res.StatusCode, res.Reason, body, hdrs...)
	return nil
}

// answer sends the caller 200 OK with an SDP answer and waits for its ACK.
func (a *aLeg) answer(sdp []byte, contentType sip.Header) error {
	res := sip.NewResponseFromRequest(a.InviteRequest, 200, "OK", sdp)
	if contentType != nil {
		res.AppendHeader(contentType)
	}
	return a.WriteResponse(res)
}

// refuse sends the caller a final failure status.
func (a *aLeg) refuse(code int, hdrs ...sip.Header) {
	a.Respond(code, reasonPhrase(code), nil, hdrs...)
}

func reasonPhrase(code int) string {
	switch code {
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 480:
		return "Temporarily Unavailable"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	}
	return "Call Failed"
}
