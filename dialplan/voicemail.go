package dialplan

import (
	"context"

	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// ringPerson is a call to person: their ring target's phones, for their
// own no-answer timeout, then their own mailbox when no phone takes it
// (no answer, busy, or nowhere to ring), never that of the seat they
// are hot-desked at. Without voicemail, or with the person's switched
// off, the phones' final status goes back to the caller.
func (p *Plan) ringPerson(ctx context.Context, person *store.Extension) *pbx.Ring {
	r := &pbx.Ring{Callee: person, Target: p.RingTarget(ctx, person)}
	if p.voicemail == nil {
		return r
	}
	m, err := p.db.Mailbox(ctx, person.ID)
	if err != nil || !m.Enabled {
		return r
	}
	r.Timeout = m.NoAnswer
	r.NoAnswer = &pbx.FeatureRoute{Name: "voicemail " + person.Number, Run: func(ctx context.Context, fc *pbx.FeatureCall) {
		p.voicemail.Leave(ctx, fc, person, voicemail.Caller{Number: fc.Identity.Number, Name: fc.Identity.DisplayName})
	}}
	return r
}
