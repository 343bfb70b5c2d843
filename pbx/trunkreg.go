package pbx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"deskpbx/store"
)

// Registration to a provider: REGISTER with digest auth, refreshed at
// half the granted expiry, retried with a doubling backoff on failure. A
// trunk that does not register is asked OPTIONS every trunkQualify, so
// that it too shows failing (and calls out fail at once) when it is gone.
const (
	trunkQualify        = 30 * time.Second
	trunkExpires        = 600 * time.Second // what we ask for; the provider may grant less
	trunkRequestTimeout = 5 * time.Second   // a provider that says nothing this long is failing
	trunkBackoffMin     = 2 * time.Second
	trunkBackoffMax     = 5 * time.Minute
)

// keepTrunk keeps trunk l registered (or, without -register, checks it
// answers) until ctx ends.
func (s *Server) keepTrunk(ctx context.Context, l *trunkLine) {
	defer s.wg.Done()
	reg := &trunkRegistration{callID: sip.CallIDHeader(newToken() + newToken()), tag: sip.GenerateTagN(16), expires: trunkExpires}
	log := s.log.With("tenant", l.trunk.Domain, "trunk", l.trunk.Name)
	backoff := trunkBackoffMin
	for {
		var granted time.Duration
		var err error
		if l.trunk.Register {
			granted, err = s.sendRegister(ctx, l, reg)
		} else {
			err = s.sendQualify(ctx, l)
		}
		var wait time.Duration
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			wait = backoff
			backoff = min(backoff*2, trunkBackoffMax)
			if !l.failing() {
				log.Warn("trunk failing", "reason", err.Error(), "retry_in", wait)
			}
			s.saveTrunkState(l, store.TrunkFailing, err.Error())
		case l.trunk.Register:
			backoff = trunkBackoffMin
			wait = max(granted/2, time.Second)
			log.Info("trunk registered", "expires", granted)
			s.saveTrunkState(l, store.TrunkRegistered, "")
		default:
			backoff = trunkBackoffMin
			wait = trunkQualify
			s.saveTrunkState(l, store.TrunkReachable, "")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// trunkRegistration is what stays the same across one registration's
// refreshes (RFC 3261 §10.2.4: same Call-ID, rising CSeq).
type trunkRegistration struct {
	callID  sip.CallIDHeader
	tag     string
	cseq    uint32
	expires time.Duration // what we ask for; 0 unregisters
}

// sendRegister registers once and returns the expiry the provider granted.
func (s *Server) sendRegister(ctx context.Context, l *trunkLine, reg *trunkRegistration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, trunkRequestTimeout)
	defer cancel()
	req := s.newTrunkRegister(l, reg)
	res, err := s.client.Do(ctx, req)
	if err == nil && (res.StatusCode == 401 || res.StatusCode == 407) {
		reg.cseq++ // DoDigestAuth sends the next CSeq
		res, err = s.client.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: l.trunk.Username, Password: l.trunk.Password.Reveal()})
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return 0, fmt.Errorf("no answer from %s", l.trunk.HostPort())
	case err != nil:
		return 0, fmt.Errorf("REGISTER to %s: %v", l.trunk.HostPort(), err)
	case res.StatusCode == 401 || res.StatusCode == 407:
		return 0, fmt.Errorf("%d %s: username or password refused", res.StatusCode, res.Reason)
	case res.StatusCode != 200:
		return 0, fmt.Errorf("%d %s", res.StatusCode, res.Reason)
	}
	return grantedExpiry(res, l.token), nil
}

// sendQualify asks the provider OPTIONS: any answer at all means it is
// there (many answer 404 or 405 to a request with no user).
func (s *Server) sendQualify(ctx context.Context, l *trunkLine) error {
	ctx, cancel := context.WithTimeout(ctx, trunkRequestTimeout)
	defer cancel()
	k := l.trunk
	dest := k.HostPort()
	host, port := splitHostPort(dest)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: port})
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: "deskpbx", Host: trunkDomain(k)}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: trunkDomain(k)}, Params: sip.NewParams()})
	req.SetTransport(strings.ToUpper(k.Transport))
	req.SetDestination(dest)
	s.sendFromListener(store.Binding{Source: dest, Transport: k.Transport})
	if _, err := s.client.Do(ctx, req); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no answer from %s", dest)
		}
		return fmt.Errorf("OPTIONS to %s: %v", dest, err)
	}
	return nil
}

// unregisterTrunks stops every trunk's loop and removes our registrations
// from the providers, so they stop sending calls to a PBX that is gone.
// A Call-ID of its own is fine: an Expires of 0 removes the binding
// whatever Call-ID made it (RFC 3261 §10.3).
func (s *Server) unregisterTrunks(ctx context.Context) {
	s.trunks.mu.RLock()
	var lines []*trunkLine
	for _, l := range s.trunks.lines {
		l.stop()
		if l.trunk.Register && l.status().State == store.TrunkRegistered {
			lines = append(lines, l)
		}
	}
	s.trunks.mu.RUnlock()
	var wg sync.WaitGroup
	for _, l := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reg := &trunkRegistration{callID: sip.CallIDHeader(newToken() + newToken()), tag: sip.GenerateTagN(16)} // expires 0
			if _, err := s.sendRegister(ctx, l, reg); err != nil {
				s.log.Info("trunk unregistration", "trunk", l.trunk.Name, "err", err)
				return
			}
			s.saveTrunkState(l, store.TrunkUnregistered, "deskpbx stopped")
		}()
	}
	wg.Wait()
}

func (s *Server) newTrunkRegister(l *trunkLine, reg *trunkRegistration) *sip.Request {
	k := l.trunk
	dest := k.HostPort()
	host, port := splitHostPort(dest)
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: port})
	aor := sip.Uri{Scheme: "sip", User: k.Username, Host: trunkDomain(k)}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", reg.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	req.AppendHeader(&reg.callID)
	reg.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: reg.cseq, MethodName: sip.REGISTER})
	contact := s.dua.ContactHDR.Address
	contact.User = k.Username
	contact.UriParams = sip.NewParams()
	contact.UriParams.Add(trunkTokenParam, l.token)
	if k.Transport == "tcp" {
		contact.UriParams.Add("transport", "tcp")
	}
	req.AppendHeader(&sip.ContactHeader{Address: contact})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(reg.expires/time.Second))))
	req.AppendHeader(sip.NewHeader("Allow", allowedMethods))
	req.SetTransport(strings.ToUpper(k.Transport))
	req.SetDestination(dest)
	s.sendFromListener(store.Binding{Source: dest, Transport: k.Transport})
	return req
}

// grantedExpiry is the expiry the provider gave our Contact: its expires
// parameter in the 200, else the Expires header, else what we asked.
func grantedExpiry(res *sip.Response, token string) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		if !strings.Contains(h.Value(), token) {
			continue
		}
		for _, p := range strings.Split(h.Value(), ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "expires") {
				if n, err := strconv.Atoi(strings.Trim(v, `" >,`)); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return trunkExpires
}

// trunkDomain is the host part of From and To towards the provider.
func trunkDomain(k *store.Trunk) string {
	if k.FromDomain != "" {
		return k.FromDomain
	}
	return k.Hostname()
}

func splitHostPort(hp string) (string, int) {
	i := strings.LastIndexByte(hp, ':')
	if i < 0 {
		return hp, 0
	}
	p, _ := strconv.Atoi(hp[i+1:])
	return strings.Trim(hp[:i], "[]"), p
}
