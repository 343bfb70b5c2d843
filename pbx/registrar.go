package pbx

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// authenticate checks the request's digest credentials against the
// extension they name in the tenant of domain. It returns that extension,
// or nil after answering the request itself (challenge, 403 or 400).
// REGISTER is challenged by the registrar (401); anything else by us as
// the phone's proxy (407). Every such answer is stateless (see
// replyStateless), and every failure looks the same whether or not the
// user exists.
func (s *Server) authenticate(ctx context.Context, req *sip.Request, tx sip.ServerTransaction, domain string) *store.Extension {
	hdrName, chalName, code, reason := "Authorization", "WWW-Authenticate", 401, "Unauthorized"
	if req.Method != sip.REGISTER {
		hdrName, chalName, code, reason = "Proxy-Authorization", "Proxy-Authenticate", 407, "Proxy Authentication Required"
	}
	src := req.Source()
	realm := s.realmOf(ctx, domain)
	sendChallenge := func(stale bool) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, v := range challenge(realm, s.nonces.issue(src), stale, s.cfg.OfferSHA256) {
			res.AppendHeader(sip.NewHeader(chalName, v))
		}
		s.replyStateless(tx, res)
	}
	refuse := func() { s.replyStateless(tx, sip.NewResponseFromRequest(req, 403, "Forbidden", nil)) }
	if s.guard.blocked(src) && !s.emergencyInvite(ctx, req, domain) {
		refuse()
		return nil
	}
	hdr := digestCredentials(req, hdrName)
	if hdr == nil {
		sendChallenge(false)
		return nil
	}
	cred, ok := parseCredentials(hdr.Value())
	if !ok {
		s.replyStateless(tx, sip.NewResponseFromRequest(req, 400, "Malformed "+hdrName, nil))
		return nil
	}
	serial, verdict := s.nonces.authentic(cred.nonce, src)
	if verdict != nonceOK || cred.realm != realm {
		// Not a nonce we gave this address (forged, sent from elsewhere,
		// or from before a restart), an expired one, or signed for
		// another realm: a fresh challenge, before the user is even
		// looked up, so existing and unknown users get the same answer.
		// None of this counts as a guess: whoever sent it may never have
		// seen a challenge, and spoofing an office's address must not get
		// that address blocked.
		sendChallenge(verdict == nonceStale)
		return nil
	}
	ext, err := s.dir.lookup(ctx, domain, cred.username)
	// An extension closed by guessing from many addresses still takes
	// the phones registered to it; anyone else is refused unchecked.
	closed := err == nil && s.guard.extensionClosed(ext.ID) && !s.registeredFrom(ext.ID, src)
	ok = err == nil && !closed && verifyDigest(&cred, ext, string(req.Method))
	if err == nil && !ok && !closed {
		// The password may have just changed: check the database itself
		// before refusing (the cache catches up within directoryRefresh).
		if ext, err = s.dir.reload(ctx, domain, cred.username); err == nil {
			ok = verifyDigest(&cred, ext, string(req.Method))
		}
	}
	if !ok {
		// One answer for unknown user and wrong password: no oracle.
		if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
			s.log.Error("looking up extension", "err", err)
			s.replyStateless(tx, sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
			return nil
		}
		s.log.Info("authentication failed", "user", cred.username, "domain", domain, "source", src, "method", req.Method)
		var id int64
		if ext != nil && err == nil {
			id = ext.ID
		}
		srcBlocked, extClosed := s.guard.failed(src, id)
		if srcBlocked {
			s.log.Warn("too many failed authentications: source blocked", "source", hostOf(src), "for", authFailWindow)
		}
		if extClosed {
			s.log.Warn("too many failed authentications: extension closed to unregistered addresses", "user", cred.username, "domain", domain, "for", authFailWindow)
		}
		refuse()
		return nil
	}
	nc := cred.nc
	if cred.qop == "" {
		nc = ""
	}
	switch s.nonces.use(serial, nc) {
	case nonceOK:
		if req.Transport() == "TCP" {
			s.keepTCP(src)
		}
		return ext
	case nonceStale:
		sendChallenge(true)
	default:
		sendChallenge(false)
	}
	return nil
}

// realmOf is the digest realm for a request to domain: the tenant's
// domain. Only an IP-addressed request needs a query to learn it; for a
// name that is no tenant's, the challenge looks the same and the
// credentials fail later (no oracle for which domains exist).
func (s *Server) realmOf(ctx context.Context, domain string) string {
	realm := strings.ToLower(domain)
	if store.IsIPHost(realm) {
		if t, err := s.dir.defaultTenant(ctx); err == nil {
			realm = t.Domain
		}
	}
	return realm
}

// replyStateless answers outside the transaction, as Kamailio's
// stateless replies do: written once on the connection the request came
// in on, never retransmitted (a spoofed INVITE would otherwise make us
// send its 407 eleven times to the victim), and the transaction ends
// when the handler returns, so nothing is kept per challenge.
func (s *Server) replyStateless(tx sip.ServerTransaction, res *sip.Response) {
	if c, ok := tx.(interface{ Connection() sip.Connection }); ok && c.Connection() != nil {
		if err := c.Connection().WriteMsg(res); err != nil {
			s.log.Debug("stateless reply failed", "code", res.StatusCode, "err", err)
		} else {
			s.countStateless(res)
		}
		return
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("respond failed", "code", res.StatusCode, "err", err)
	}
}

func (s *Server) respond(tx sip.ServerTransaction, req *sip.Request, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("respond failed", "code", code, "err", err)
	}
}

// onRegister is the registrar (RFC 3261 §10.3). It answers what fails
// itself; otherwise it returns what the 200 OK is to say once changes, the
// bindings to write, are committed, and the extension when the REGISTER
// added a contact it did not have (a phone that started or moved, not a
// refresh), whose observers hear of it once it is answered.
func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) (ok *registered, changes []store.BindingChange, added *store.Extension) {
	ctx := s.ctx
	to, cseq, callID := req.To(), req.CSeq(), req.CallID()
	if to == nil || cseq == nil || callID == nil {
		s.respond(tx, req, 400, "Missing To, CSeq or Call-ID")
		return nil, nil, nil
	}
	ext := s.authenticate(ctx, req, tx, to.Address.Host)
	if ext == nil {
		return nil, nil, nil
	}
	if to.Address.User != ext.Number {
		// A phone may only register its own address of record.
		s.respond(tx, req, 403, "Forbidden")
		return nil, nil, nil
	}

	headerExpires := -1
	if h := req.GetHeader("Expires"); h != nil {
		v, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			s.respond(tx, req, 400, "Bad Expires")
			return nil, nil, nil
		}
		headerExpires = int(min(v, 1<<31-1))
	}
	now := s.db.Now()
	var updates []contactUpdate
	removeAll := false
	contacts := req.GetHeaders("Contact")
	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			s.respond(tx, req, 400, "Bad Contact")
			return nil, nil, nil
		}
		if c.Address.Wildcard {
			if len(contacts) != 1 || headerExpires != 0 {
				s.respond(tx, req, 400, "Contact * needs Expires: 0 and no other Contact")
				return nil, nil, nil
			}
			removeAll = true
			break
		}
		expires := headerExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				s.respond(tx, req, 400, "Bad Contact expires")
				return nil, nil, nil
			}
			expires = int(min(n, 1<<31-1))
		}
		if expires < 0 {
			expires = int(s.cfg.DefaultExpires / time.Second)
		}
		if expires > 0 && time.Duration(expires)*time.Second < s.cfg.MinExpires {
			s.respond(tx, req, 423, "Interval Too Brief",
				sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.MinExpires/time.Second))))
			return nil, nil, nil
		}
		d := min(time.Duration(expires)*time.Second, s.cfg.MaxExpires)
		ua := ""
		if h := req.GetHeader("User-Agent"); h != nil {
			// Cloned, as is the Call-ID: sipgo's headers are substrings
			// of the whole request, which a binding must not keep alive.
			ua = strings.Clone(h.Value())
		}
		updates = append(updates, contactUpdate{
			remove: expires == 0,
			binding: store.Binding{
				ExtensionID: ext.ID,
				Contact:     uriString(&c.Address),
				Source:      req.Source(),
				Transport:   strings.ToLower(req.Transport()),
				CallID:      strings.Clone(callID.Value()),
				CSeq:        cseq.SeqNo,
				UserAgent:   ua,
				Expires:     now.Add(d),
				Updated:     now,
			},
		})
	}

	var current []store.Binding
	if len(updates) > 0 || removeAll {
		changed, cur, err := s.location.apply(ext.ID, updates, removeAll, callID.Value(), cseq.SeqNo)
		switch err {
		case nil:
		case errOutOfOrder:
			s.respond(tx, req, 500, "Out of Order REGISTER")
			return nil, nil, nil
		case errTooManyContacts:
			s.respond(tx, req, 403, "Too Many Contacts")
			return nil, nil, nil
		}
		for _, c := range changed {
			changes = append(changes, store.BindingChange{Binding: c.binding, Delete: c.remove})
			if c.added {
				added = ext
			}
		}
		current = cur
		if s.log.Enabled(ctx, slog.LevelDebug) {
			s.log.Debug("registered", "aor", ext.AOR(), "contacts", len(cur), "source", req.Source())
		}
	} else {
		current = s.location.Lookup(ext.ID)
	}

	if req.Via() == nil || req.From() == nil {
		s.respond(tx, req, 400, "Missing Via or From")
		return nil, nil, nil
	}
	return &registered{current: current, now: now}, changes, added
}
