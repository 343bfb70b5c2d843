package pbx

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// registered is a REGISTER's success: the bindings its 200 OK lists,
// as of now.
type registered struct {
	current []store.Binding
	now     time.Time
}

// response is the 200 OK as a sipgo Response, for a REGISTER that came
// through a transaction (TCP).
func (r *registered) response(req *sip.Request) *sip.Response {
	res := registerOK(req)
	for _, b := range r.current {
		var u sip.Uri
		if err := sip.ParseUri(b.Contact, &u); err != nil {
			continue
		}
		params := sip.NewParams()
		params.Add("expires", strconv.Itoa(r.left(b)))
		res.AppendHeader(&sip.ContactHeader{Address: u, Params: params})
	}
	res.AppendHeader(sip.NewHeader("Date", httpDate(r.now)))
	return res
}

// encode is the bytes of response(req) for a REGISTER from dst over UDP,
// written straight into a buffer: building the sipgo Response (cloned
// Via and To, a parsed URI and parameter list per Contact) and then
// encoding it was a ninth of the registrar's CPU under a registration
// storm (pprof). TestRegisteredEncodeIsItsResponse holds the two to the
// same bytes.
func (r *registered) encode(req *sip.Request, dst netip.AddrPort) []byte {
	buf := challengeBufs.Get().(*bytes.Buffer)
	defer challengeBufs.Put(buf)
	buf.Reset()
	writeAnswerHead(buf, req, "SIP/2.0 200 OK", dst)
	buf.WriteString("Content-Length: 0\r\n")
	for _, b := range r.current {
		// Every stored contact is a URI as sipgo writes it (uriString):
		// parsing it again only to write it would give the same bytes.
		buf.WriteString("Contact: <")
		buf.WriteString(b.Contact)
		buf.WriteString(">;expires=")
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(r.left(b)), 10))
		buf.WriteString("\r\n")
	}
	buf.WriteString("Date: ")
	buf.WriteString(httpDate(r.now))
	buf.WriteString("\r\n\r\n")
	return bytes.Clone(buf.Bytes())
}

// left is b's time left in whole seconds, as its Contact's expires.
func (r *registered) left(b store.Binding) int {
	return max(int(b.Expires.Sub(r.now).Round(time.Second)/time.Second), 0)
}

// writeAnswerHead starts an answer to req, from dst over UDP: the status
// line, then what RFC 3261 §8.2.6.2 copies from the request: its Vias,
// the top one with rport and received filled in when asked (RFC 3581
// §4), From, To with a tag of ours (statelessTag) unless it has one,
// Call-ID and CSeq. The REGISTER's 401s and 200s are written so, with no
// sipgo Response between; the caller has checked that req has them all.
func writeAnswerHead(buf *bytes.Buffer, req *sip.Request, status string, dst netip.AddrPort) {
	buf.WriteString(status)
	buf.WriteString("\r\n")
	via := req.Via()
	for i, h := range req.GetHeaders("Via") {
		if v, ok := h.(*sip.ViaHeader); ok && i == 0 {
			if p, has := v.Params.Get("rport"); has && p == "" {
				writeViaRport(buf, v, dst)
				continue
			}
		}
		h.StringWrite(buf)
		buf.WriteString("\r\n")
	}
	req.From().StringWrite(buf)
	buf.WriteString("\r\n")
	to := req.To()
	to.StringWrite(buf)
	if !to.Params.Has("tag") {
		buf.WriteString(";tag=")
		buf.WriteString(statelessTag(req, via))
	}
	buf.WriteString("\r\n")
	req.CallID().StringWrite(buf)
	buf.WriteString("\r\n")
	req.CSeq().StringWrite(buf)
	buf.WriteString("\r\n")
}

// writeViaRport writes v with rport and received set to dst's port and
// address (RFC 3581 §4) as sipgo writes a Via whose parameters were set
// with Add: in place when present, received appended when not. A copy of
// the Via to Add to cost two allocations per answer; the request's
// own stays as it came.
func writeViaRport(buf *bytes.Buffer, v *sip.ViaHeader, dst netip.AddrPort) {
	buf.WriteString("Via: ")
	buf.WriteString(v.ProtocolName)
	buf.WriteByte('/')
	buf.WriteString(v.ProtocolVersion)
	buf.WriteByte('/')
	buf.WriteString(v.Transport)
	buf.WriteByte(' ')
	if a, err := netip.ParseAddr(v.Host); err == nil && a.Is6() && !a.Is4In6() && a.Zone() == "" && strings.IndexByte(v.Host, '.') < 0 {
		buf.WriteByte('[')
		buf.WriteString(v.Host)
		buf.WriteByte(']')
	} else {
		buf.WriteString(v.Host)
	}
	if v.Port > 0 {
		buf.WriteByte(':')
		buf.Write(strconv.AppendInt(buf.AvailableBuffer(), int64(v.Port), 10))
	}
	rport, received := false, false
	for _, kv := range v.Params {
		buf.WriteByte(';')
		buf.WriteString(kv.K)
		val := kv.V
		switch {
		case kv.K == "rport" && !rport:
			rport = true
			buf.WriteByte('=')
			buf.Write(strconv.AppendUint(buf.AvailableBuffer(), uint64(dst.Port()), 10))
			continue
		case kv.K == "received" && !received:
			received = true
			buf.WriteByte('=')
			buf.Write(dst.Addr().AppendTo(buf.AvailableBuffer()))
			continue
		case val == "":
			continue
		}
		if strings.ContainsAny(val, " \t") {
			buf.WriteString(`="`)
			buf.WriteString(val)
			buf.WriteByte('"')
		} else {
			buf.WriteByte('=')
			buf.WriteString(val)
		}
	}
	if !received {
		buf.WriteString(";received=")
		buf.Write(dst.Addr().AppendTo(buf.AvailableBuffer()))
	}
	buf.WriteString("\r\n")
}

// httpDate is t as a Date header (RFC 3261 §20.17), formatted once a
// second rather than for every 200.
func httpDate(t time.Time) string {
	sec := t.Unix()
	if d := lastDate.Load(); d != nil && d.sec == sec {
		return d.s
	}
	d := &formattedDate{sec: sec, s: t.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")}
	lastDate.Store(d)
	return d.s
}

type formattedDate struct {
	sec int64
	s   string
}

var lastDate atomic.Pointer[formattedDate]
