package dialplan

import (
	"context"

	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// mailboxOf is what a call to person does when no phone takes it (no
// answer, busy, or nowhere to ring): their own mailbox, never that of
// the seat they are hot-desked at. Nil when the office has no voicemail
// or the person switched theirs off.
func (p *Plan) mailboxOf(ctx context.Context, person *store.Extension) *pbx.FeatureRoute {
	if p.voicemail == nil {
		return nil
	}
	m, err := p.db.Mailbox(ctx, person.ID)
	if err != nil || !m.Enabled {
		return nil
	}
	return &pbx.FeatureRoute{Name: "voicemail " + person.Number, Run: func(ctx context.Context, fc *pbx.FeatureCall) {
		p.voicemail.Leave(ctx, fc, person, voicemail.Caller{Number: fc.Identity.Number, Name: fc.Identity.DisplayName})
	}}
}
