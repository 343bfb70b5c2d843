package dialplan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"deskpbx/pbx"
	"deskpbx/sounds"
	"deskpbx/store"
)

// Outside lines: calls from a provider's trunk to a DID, calls out
// through a tenant's trunk, and emergency calls.

// EmergencyCall is what the on-site notification hears of an emergency
// call, as it is placed.
type EmergencyCall struct {
	At       time.Time
	TenantID int64
	Domain   string
	Phone    string // AOR of the phone it was dialled from: where help goes
	Person   string // AOR of whoever was hot-desked there, "" if nobody
	Number   string // what was dialled, e.g. "911"
	CallerID string // the phone's emergency caller ID sent to the provider
	Trunk    string // name of the trunk it went out on
}

// OnEmergency installs the on-site notification (a dashboard banner, an
// e-mail): called once per emergency call, after its audit row is
// written, on the call's goroutine, so it must not block.
func (p *Plan) OnEmergency(notify func(EmergencyCall)) { p.notifyEmergency = notify }

// emergencyRoute is tried before any other pattern: a tenant's emergency
// numbers go out from any of its phones, whoever is logged in (or
// nobody), whatever the extension may dial, with the phone's own
// emergency caller ID so the dispatcher learns where the phone is.
func (p *Plan) emergencyRoute(ctx context.Context, req *pbx.CallRequest) (pbx.Route, bool) {
	phone := req.Caller
	settings, err := p.db.TenantOutside(ctx, phone.TenantID)
	if err != nil || !slices.Contains(settings.EmergencyNumbers, req.Dialled) {
		return pbx.Route{}, false
	}
	route := pbx.Route{Identity: phone}
	call := EmergencyCall{At: p.db.Now(), TenantID: phone.TenantID, Domain: phone.Domain, Phone: phone.AOR(), Number: req.Dialled}
	if person := p.CallsAs(ctx, phone); person.ID != phone.ID {
		call.Person = person.AOR()
	}
	trunk, err := p.emergencyTrunk(ctx, phone.TenantID)
	if err == nil {
		var ext store.ExtensionOutside
		ext, err = p.db.ExtensionOutside(ctx, phone.ID)
		call.CallerID = firstOf(ext.EmergencyCID, ext.OutsideCID, ext.DID, settings.MainNumber, phone.Number)
	}
	outcome := "placed"
	if err != nil {
		outcome = "failed"
		route.Reject = &pbx.Rejection{Code: 503, Reason: "emergency call: " + err.Error()}
	} else {
		call.Trunk = trunk.Name
		route.Outside = &pbx.OutsideRoute{Trunk: trunk, Number: req.Dialled, CallerID: call.CallerID, Emergency: true,
			Unavailable: p.refusal("outside-unavailable", sounds.OutsideUnavailable, 503)}
	}
	detail := fmt.Sprintf("dialled %s, caller ID %s, trunk %s", call.Number, call.CallerID, call.Trunk)
	if err != nil {
		detail = fmt.Sprintf("dialled %s: %v", call.Number, err)
	}
	// The audit row and the notification come before the call rings:
	// the on-site people need to know even if the call fails.
	// An audit failure must never hold up an emergency call: its error is
	// dropped here, and the notification below still goes out.
	_ = p.db.RecordAudit(ctx, store.AuditEntry{At: call.At, TenantID: phone.TenantID, Actor: phone.AOR(),
		Action: "emergency_call", Person: call.Person, Seat: phone.AOR(), Source: req.Source, Outcome: outcome, Detail: detail})
	if p.notifyEmergency != nil && err == nil {
		p.notifyEmergency(call)
	}
	return route, true
}

// IsEmergency says whether dialled is an emergency number of the tenant
// of domain (pbx asks before its guessing guard may refuse the call).
func (p *Plan) IsEmergency(ctx context.Context, domain, dialled string) bool {
	t, err := p.db.ResolveTenant(ctx, domain)
	if err != nil {
		return false
	}
	settings, err := p.db.TenantOutside(ctx, t.ID)
	return err == nil && slices.Contains(settings.EmergencyNumbers, dialled)
}

// emergencyTrunk is the tenant's first trunk that is not failing, else
// its first: an emergency call is tried even on a failing line.
func (p *Plan) emergencyTrunk(ctx context.Context, tenantID int64) (*store.Trunk, error) {
	trunks, err := p.db.Trunks(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if len(trunks) == 0 {
		return nil, fmt.Errorf("the tenant has no trunk")
	}
	for _, k := range trunks {
		if k.State != store.TrunkFailing {
			return k, nil
		}
	}
	return trunks[0], nil
}

// outsideRoute sends a number that is no extension out through the
// tenant's first trunk, when it looks like an outside number (+, or 7
// digits or more, after the tenant's outbound prefix), as the identity
// the call is placed as: their caller ID and their permission.
func (p *Plan) outsideRoute(ctx context.Context, req *pbx.CallRequest, identity *store.Extension) (pbx.Route, bool) {
	settings, err := p.db.TenantOutside(ctx, identity.TenantID)
	if err != nil {
		return pbx.Route{}, false
	}
	number := req.Dialled
	if pre := settings.StripPrefix; pre != "" && strings.HasPrefix(number, pre) && outsideNumber(number[len(pre):]) {
		number = number[len(pre):]
	}
	if !outsideNumber(number) {
		return pbx.Route{}, false
	}
	route := pbx.Route{Identity: identity}
	// A colleague's direct number rings them here, not out and back in.
	if did, err := p.db.DIDByNumber(ctx, number); err == nil && did.TenantID == identity.TenantID {
		route.Ring = p.ringPerson(ctx, did.Extension)
		return route, true
	}
	trunks, err := p.db.Trunks(ctx, identity.TenantID)
	switch {
	case err != nil:
		route.Reject = &pbx.Rejection{Code: 500, Reason: "trunk lookup", Err: err}
		return route, true
	case len(trunks) == 0:
		// The office has no outside line: still 404, but said aloud.
		route.Feature = p.refusal("outside-unavailable", sounds.OutsideUnavailable, 404)
		return route, true
	}
	ext, err := p.db.ExtensionOutside(ctx, identity.ID)
	if err != nil {
		route.Reject = &pbx.Rejection{Code: 500, Reason: "outside settings", Err: err}
		return route, true
	}
	if !permits(ext.Permission, international(number, settings.NationalPrefixes)) {
		route.Feature = p.refusal("outside-not-allowed", sounds.OutsideNotAllowed, 403)
		return route, true
	}
	route.Outside = &pbx.OutsideRoute{Trunk: trunks[0], Number: number,
		CallerID:    firstOf(ext.OutsideCID, ext.DID, settings.MainNumber, identity.Number),
		Unavailable: p.refusal("outside-unavailable", sounds.OutsideUnavailable, 503)}
	return route, true
}

// outsideNumber is a number for the outside world: + and digits, or at
// least 7 digits.
func outsideNumber(n string) bool {
	digits := strings.TrimPrefix(n, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return false
	}
	return strings.HasPrefix(n, "+") || len(digits) >= 7
}

// international applies the tenant's national prefix rule: + or 00 is
// abroad unless it is one of the tenant's own country prefixes.
func international(number string, national []string) bool {
	if !strings.HasPrefix(number, "+") && !strings.HasPrefix(number, "00") {
		return false
	}
	for _, pre := range national {
		if strings.HasPrefix(number, pre) {
			return false
		}
	}
	return true
}

func permits(permission string, international bool) bool {
	switch permission {
	case store.PermInternational:
		return true
	case store.PermNational:
		return !international
	}
	return false
}

// RouteInbound answers pbx for a call from a provider: the DID it was
// sent to rings that person wherever they sit, showing the caller's
// number as the provider sent it.
func (p *Plan) RouteInbound(ctx context.Context, in *pbx.InboundCall) pbx.Route {
	caller := &store.Extension{TenantID: in.Trunk.TenantID, Number: cleanCallerNumber(in.CallerNumber),
		Domain: in.Trunk.Hostname(), DisplayName: cleanCallerName(in.CallerName)}
	route := pbx.Route{Identity: caller}
	var did *store.DID
	var err error
	for _, n := range []string{in.RequestUser, in.ToUser} {
		if did, err = p.db.DIDByNumber(ctx, n); err == nil && did.TenantID == in.Trunk.TenantID {
			break
		}
		did = nil
	}
	switch {
	case did == nil && err != nil && store.ErrorCode(err) != store.ENOTFOUND:
		route.Reject = &pbx.Rejection{Code: 500, Reason: "DID lookup", Err: err}
	case did == nil:
		route.Reject = &pbx.Rejection{Code: 404, Reason: "unknown DID"}
	default:
		person := did.Extension
		// Unanswered, it goes to the person's mailbox, as a colleague's call would.
		route.Ring = p.ringPerson(ctx, person)
	}
	return route
}

// refusal is how an outside call the office refuses is explained to the
// caller: one prompt as early media, never answered (nothing to bill,
// and the phone shows the failure), then the final status code (403
// for a number the caller may not dial, 503 for a line that is down).
func (p *Plan) refusal(name, prompt string, code int) *pbx.FeatureRoute {
	return &pbx.FeatureRoute{Name: name, Refuse: code, Run: func(ctx context.Context, fc *pbx.FeatureCall) {
		fc.PlayNoBarge(ctx, sounds.Ulaw(prompt))
	}}
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// cleanCallerNumber keeps what a provider sent as the caller's number to
// what can go into the user part of a SIP URI we build.
func cleanCallerNumber(n string) string {
	n = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' || r == '*' || r == '#' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' {
			return r
		}
		return -1
	}, n)
	if n == "" || len(n) > 32 {
		return "anonymous"
	}
	return n
}

func cleanCallerName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < 0x20 {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
