package testphone

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Subscription is a SUBSCRIBE dialog of a test phone (RFC 6665): the
// NOTIFYs of that dialog arrive on Notifies, answered 200 unless the
// phone was told to refuse them.
type Subscription struct {
	Event    string
	Notifies chan *sip.Request

	p                      *Phone
	callID, fromTag, toTag string
	from, to               sip.Uri
	remoteTarget           sip.Uri
	cseq                   uint32
}

// notifyState is a phone's subscriptions and its NOTIFY behaviour, kept
// beside the Phone so that phone.go only routes NOTIFY here.
type notifyState struct {
	mu          sync.Mutex
	subs        map[string]*Subscription // by Call-ID
	unsolicited chan *sip.Request
	reject      int
}

var notifyStates sync.Map // *Phone -> *notifyState

func (p *Phone) notifies() *notifyState {
	v, _ := notifyStates.LoadOrStore(p, &notifyState{subs: make(map[string]*Subscription), unsolicited: make(chan *sip.Request, 64)})
	return v.(*notifyState)
}

// Unsolicited gets the NOTIFYs that belong to no subscription of the
// phone (message-summary for phones that do not subscribe).
func (p *Phone) Unsolicited() <-chan *sip.Request { return p.notifies().unsolicited }

// RefuseNotifies makes the phone answer every NOTIFY with code (481 for
// a phone that forgot its subscriptions); 0 accepts them again.
func (p *Phone) RefuseNotifies(code int) {
	n := p.notifies()
	n.mu.Lock()
	n.reject = code
	n.mu.Unlock()
}

func (p *Phone) onNotify(req *sip.Request, tx sip.ServerTransaction) {
	n := p.notifies()
	n.mu.Lock()
	sub, reject := n.subs[req.CallID().Value()], n.reject
	n.mu.Unlock()
	if reject != 0 {
		tx.Respond(sip.NewResponseFromRequest(req, reject, "Refused", nil))
		return
	}
	ch := n.unsolicited
	if sub != nil {
		ch = sub.Notifies
	}
	select {
	case ch <- req:
	default:
	}
	tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
}

// Subscribe sends SUBSCRIBE for event to target ("1002", or
// "1002@other.example" to name another domain) through the PBX, answers
// one digest challenge, and returns the subscription with the final
// response. The subscription's NOTIFYs are collected from before the
// request leaves, as a NOTIFY may overtake the 200.
func (p *Phone) Subscribe(target, event string, expires int) (*Subscription, *sip.Response) {
	p.t.Helper()
	ruri := p.URI(target)
	toHost := p.Domain
	if user, host, ok := strings.Cut(target, "@"); ok {
		ruri = sip.Uri{Scheme: "sip", User: user, Host: host}
		target, toHost = user, host
	}
	s := &Subscription{Event: event, Notifies: make(chan *sip.Request, 64), p: p,
		callID: sip.GenerateTagN(24), fromTag: sip.GenerateTagN(8),
		from: sip.Uri{Scheme: "sip", User: p.User, Host: p.Domain},
		to:   sip.Uri{Scheme: "sip", User: target, Host: toHost}}
	n := p.notifies()
	n.mu.Lock()
	n.subs[s.callID] = s
	n.mu.Unlock()
	req := s.request(ruri, expires, 1)
	req.SetDestination(p.PBX)
	res, err := p.DoAuth(req, p.Password)
	if err != nil {
		p.t.Fatalf("%s: SUBSCRIBE %s: %v", p.User, event, err)
	}
	s.cseq = req.CSeq().SeqNo
	if res.IsSuccess() {
		s.toTag, _ = res.To().Params.Get("tag")
		if c := res.Contact(); c != nil {
			s.remoteTarget = c.Address
		}
	}
	return s, res
}

// Refresh re-subscribes in the subscription's dialog with expires (0
// un-subscribes) and returns the final response.
func (s *Subscription) Refresh(expires int) *sip.Response {
	s.p.t.Helper()
	req := s.request(s.remoteTarget, expires, s.cseq+1)
	req.SetDestination(s.p.PBX)
	res, err := s.p.DoAuth(req, s.p.Password)
	if err != nil {
		s.p.t.Fatalf("%s: refreshing SUBSCRIBE %s: %v", s.p.User, s.Event, err)
	}
	s.cseq = req.CSeq().SeqNo
	return res
}

func (s *Subscription) request(ruri sip.Uri, expires int, cseq uint32) *sip.Request {
	req := sip.NewRequest(sip.SUBSCRIBE, ruri)
	from := &sip.FromHeader{Address: s.from, Params: sip.NewParams()}
	from.Params.Add("tag", s.fromTag)
	to := &sip.ToHeader{Address: s.to, Params: sip.NewParams()}
	if s.toTag != "" {
		to.Params.Add("tag", s.toTag)
	}
	callID := sip.CallIDHeader(s.callID)
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: sip.SUBSCRIBE})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+s.p.User+"@"+s.p.Addr+">"))
	req.AppendHeader(sip.NewHeader("Event", s.Event))
	if expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	}
	return req
}

// Next waits for the subscription's next NOTIFY; the test fails if none
// comes within 10 s.
func (s *Subscription) Next() *sip.Request {
	s.p.t.Helper()
	select {
	case req := <-s.Notifies:
		return req
	case <-time.After(10 * time.Second):
		s.p.t.Fatalf("%s: no NOTIFY for %s", s.p.User, s.Event)
	}
	return nil
}

// State is a NOTIFY's Subscription-State value ("active;expires=3600").
func State(notify *sip.Request) string {
	if h := notify.GetHeader("Subscription-State"); h != nil {
		return h.Value()
	}
	return ""
}
