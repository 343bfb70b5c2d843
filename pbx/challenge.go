package pbx

import (
	"bytes"
	"encoding/hex"
	"hash/maphash"
	"net"
	"net/netip"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// challengeStateless answers, before sipgo's transaction layer sees it
// (on the socket's reading goroutine), a REGISTER over UDP that brings no credentials (every phone's
// first REGISTER, and every unauthenticated flood). The 401 is written straight to the
// socket and nothing is kept, so a flood of unauthenticated REGISTERs
// costs no memory, and half of a registration's messages skip the
// transaction layer. RFC 3261 §8.2.7 names issuing challenges as what a
// stateless UAS is for: it never retransmits, and a retransmitted
// REGISTER simply earns another 401 (with the same To tag, derived from
// the request; its fresh nonce is as good as the first one's).
//
// A REGISTER with credentials goes to registerUDP. It returns false,
// leaving the request to the transaction layer, for anything else: other
// methods, TCP, malformed requests, a blocked source.
func (s *Server) challengeStateless(req *sip.Request) bool {
	if req.Method != sip.REGISTER || req.Transport() != "UDP" {
		return false
	}
	udp, ok := s.udp.(*net.UDPConn)
	to, from, callID, cseq, via := req.To(), req.From(), req.CallID(), req.CSeq(), req.Via()
	if !ok || to == nil || from == nil || callID == nil || cseq == nil || via == nil {
		return false
	}
	if digestCredentials(req, "Authorization") != nil {
		// Checked once, by authenticate on a register worker (where bad
		// nonces earn a challenge too), without a transaction.
		return s.registerUDP(req, udp)
	}
	if code, _, _ := refusal(req); code != 0 {
		return false
	}
	src := req.Source()
	dst, err := netip.ParseAddrPort(src)
	if err != nil || s.guard.blocked(src) {
		return false
	}
	// This runs on the socket's reading goroutine: nothing here may wait
	// on the database.
	realm := strings.ToLower(to.Address.Host)
	if store.IsIPHost(realm) {
		t := s.dir.cachedDefaultTenant()
		if t == nil {
			return false
		}
		realm = t.Domain
	}
	s.metrics.SIPRequest(string(req.Method))

	buf := challengeBufs.Get().(*bytes.Buffer)
	defer challengeBufs.Put(buf)
	buf.Reset()
	writeAnswerHead(buf, req, "SIP/2.0 401 Unauthorized", dst)
	nonce := s.nonces.issue(src)
	for _, alg := range challengeAlgorithms(s.cfg.OfferSHA256) {
		buf.WriteString("WWW-Authenticate: ")
		buf.Write(appendChallenge(buf.AvailableBuffer(), realm, nonce, false, alg))
		buf.WriteString("\r\n")
	}
	buf.WriteString("Server: deskpbx\r\nContent-Length: 0\r\n\r\n")
	if out := s.registerJobs.challenges; out != nil {
		// Sent with the others of the same batched read.
		out.queue(udpDatagram{b: bytes.Clone(buf.Bytes()), dst: dst, sent: s.registerJobs.sent401})
		return true
	}
	if _, err := udp.WriteToUDPAddrPort(buf.Bytes(), dst); err != nil {
		s.log.Debug("stateless 401 failed", "err", err)
		return true // as a lost datagram: the phone retransmits
	}
	s.metrics.SIPResponse(string(req.Method), 401)
	return true
}

var challengeBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// uriHasControl is hasControl(u.String()) without making the string:
// refusal asks it of every request, two per registration.
func uriHasControl(u *sip.Uri) bool {
	buf := challengeBufs.Get().(*bytes.Buffer)
	defer challengeBufs.Put(buf)
	buf.Reset()
	u.StringWrite(buf)
	return hasControl(buf.Bytes())
}

// uriString is u.String() in one allocation rather than a growing
// builder's several.
func uriString(u *sip.Uri) string {
	buf := challengeBufs.Get().(*bytes.Buffer)
	defer challengeBufs.Put(buf)
	buf.Reset()
	u.StringWrite(buf)
	return buf.String()
}

// tagSeed keys the stateless To tags: the same request (a retransmission)
// gets the same tag, as RFC 3261 §8.2.7 asks of a stateless UAS, and
// nobody can choose a request whose tag collides with another's.
var tagSeed = maphash.MakeSeed()

// statelessTag is a To tag for req: random to everyone else, the same
// for a retransmission of req.
func statelessTag(req *sip.Request, via *sip.ViaHeader) string {
	var h maphash.Hash
	h.SetSeed(tagSeed)
	branch, _ := via.Params.Get("branch")
	h.WriteString(branch)
	h.WriteByte(0)
	h.WriteString(req.CallID().Value())
	h.WriteByte(0)
	if tag, ok := req.From().Params.Get("tag"); ok {
		h.WriteString(tag)
	}
	var sum [8]byte
	v := h.Sum64()
	for i := range sum {
		sum[i] = byte(v >> (8 * i))
	}
	return hex.EncodeToString(sum[:])
}

// registerOK is sip.NewResponseFromRequest(req, 200, "OK", nil) for a
// REGISTER that has its To, From, Call-ID, CSeq and Via (onRegister
// checked), without two of its costs at 20,000 a second: the To tag comes
// from statelessTag rather than crypto/rand, and From, Call-ID, CSeq and
// the Vias below the first are shared with the request, which nothing
// changes, rather than cloned.
func registerOK(req *sip.Request) *sip.Response {
	res := sip.NewResponse(200, "OK")
	res.SipVersion = req.SipVersion
	top := req.Via()
	for i, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok && i == 0 {
			v = v.Clone()
			if p, has := v.Params.Get("rport"); has && p == "" {
				// RFC 3581 §4, as sipgo does it.
				host, port, _ := net.SplitHostPort(req.Source())
				v.Params.Add("rport", port)
				v.Params.Add("received", host)
			}
			h = v
		}
		res.AppendHeader(h)
	}
	res.AppendHeader(req.From())
	to := *req.To()
	to.Params = to.Params.Clone()
	if !to.Params.Has("tag") {
		to.Params.Add("tag", statelessTag(req, top))
	}
	res.AppendHeader(&to)
	res.AppendHeader(req.CallID())
	res.AppendHeader(req.CSeq())
	res.SetBody(nil) // Content-Length: 0, which TCP needs
	res.SetTransport(req.Transport())
	res.SetDestination(req.Source())
	return res
}

// digestCredentials is the request's first credentials header named name of
// the Digest scheme, or nil. Credentials of another scheme (Basic, say)
// are not ours to check: as if absent, they earn a challenge.
func digestCredentials(req *sip.Request, name string) sip.Header {
	for _, h := range req.GetHeaders(name) {
		if v := strings.TrimSpace(h.Value()); len(v) >= 6 && strings.EqualFold(v[:6], "digest") {
			return h
		}
	}
	return nil
}
