package hotdesk

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"deskpbx/sounds"
	"deskpbx/store"
)

var errCallEnded = errors.New("call ended")

// hangUp in a phoneCall's keys: the caller hangs up instead of keying.
const hangUp = "<hang up>"

// phoneCall is the caller on the other end of a *072/*073 call, scripted:
// at each Collect they key the next entry of keys ("#" and anything after
// it is the terminator), and during Play number hangUpAtPlay (1-based)
// they hang up. It records every prompt they hear, by name.
type phoneCall struct {
	t            *testing.T
	keys         []string
	hangUpAtPlay int
	onPlay       func(names []string)

	heard    []string
	played   int
	collects int
	pbxHungUp,
	callerGone bool
}

var promptName = func() map[*byte]string {
	m := map[*byte]string{}
	for _, n := range sounds.Names() {
		if p := sounds.Ulaw(n); len(p) > 0 {
			m[&p[0]] = n
		}
	}
	return m
}()

func (c *phoneCall) Play(ctx context.Context, prompts ...[]byte) error {
	if c.pbxHungUp {
		c.t.Error("Play after Hangup")
	}
	if c.callerGone {
		return errCallEnded
	}
	c.played++
	if c.played == c.hangUpAtPlay {
		c.callerGone = true
		return errCallEnded
	}
	var names []string
	for _, p := range prompts {
		name, ok := promptName[&p[0]]
		if !ok {
			c.t.Fatal("played something that is not a prompt of package sounds")
		}
		names = append(names, name)
	}
	c.heard = append(c.heard, names...)
	if c.onPlay != nil {
		c.onPlay(names)
	}
	return nil
}

func (c *phoneCall) PlayNoBarge(ctx context.Context, prompts ...[]byte) error {
	return c.Play(ctx, prompts...)
}

func (c *phoneCall) Collect(ctx context.Context, max int, terminator rune, firstDigit, interDigit time.Duration) (string, error) {
	if max != MaxDigits+1 || terminator != '#' || firstDigit <= 0 || interDigit != 5*time.Second {
		c.t.Errorf("Collect(%d, %q, %v, %v): want up to 16 keys ended by # with 5 s between keys", max, terminator, firstDigit, interDigit)
	}
	if c.callerGone || len(c.keys) == 0 {
		c.callerGone = true
		return "", errCallEnded
	}
	c.collects++
	k := c.keys[0]
	c.keys = c.keys[1:]
	if k == hangUp {
		c.callerGone = true
		return "", errCallEnded
	}
	k, _, _ = strings.Cut(k, "#")
	return k[:min(len(k), max)], nil
}

func (c *phoneCall) Hangup() { c.pbxHungUp = true }

func (o *office) star072(c *phoneCall, seat string) {
	o.s.LoginFlow(o.ctx, c, o.ext(seat), "192.0.2.10:5060")
}

func (o *office) star073(c *phoneCall, seat string) {
	o.s.LogoutFlow(o.ctx, c, o.ext(seat), "192.0.2.10:5060")
}

func repeat(n int, s ...string) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, s...)
	}
	return out
}

func TestStar072SeatsThePersonBeforeSayingSo(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	c := &phoneCall{t: t, keys: []string{"5551001#", "5937#"}}
	c.onPlay = func(names []string) {
		if names[0] == sounds.LoggedInAs && o.whoIsAt("1003") != "1001@acme.example" {
			t.Error("the confirmation plays before the session is live")
		}
	}
	o.star072(c, "1003")
	want := []string{sounds.EnterID, sounds.EnterPIN, sounds.LoggedInAs, sounds.Digit1, sounds.Digit0, sounds.Digit0, sounds.Digit1}
	if !slices.Equal(c.heard, want) || !c.pbxHungUp {
		t.Errorf("heard %v (hung up: %v), want %v then hang-up", c.heard, c.pbxHungUp, want)
	}
	if st := o.s.Stats(); st.Count != 1 || st.Max <= 0 {
		t.Errorf("login latency not recorded: %+v", st)
	}
}

func TestStar072ThreeWrongPasswordsSayGoodbye(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	c := &phoneCall{t: t, keys: []string{"5551001", "6048", "5551001", "1357", "5551001", "2468"}}
	o.star072(c, "1003")
	want := append(repeat(3, sounds.EnterID, sounds.EnterPIN, sounds.Invalid), sounds.TooMany)
	if !slices.Equal(c.heard, want) || !c.pbxHungUp {
		t.Errorf("heard %v (hung up: %v), want %v then hang-up", c.heard, c.pbxHungUp, want)
	}
	if o.whoIsAt("1003") != "" {
		t.Error("seated after three wrong passwords")
	}
	if got := o.actions(func(a store.AuditEntry) bool { return a.Action == "failed" }); !slices.Equal(got, repeat(3, "failed/wrong-pin")) {
		t.Errorf("audit = %v", got)
	}
}

func TestStar072WrongThenRight(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	c := &phoneCall{t: t, keys: []string{"5551002", "5937", "5551001", "5937"}}
	o.star072(c, "1003")
	if !slices.Equal(c.heard[:5], []string{sounds.EnterID, sounds.EnterPIN, sounds.Invalid, sounds.EnterID, sounds.EnterPIN}) ||
		c.heard[5] != sounds.LoggedInAs || o.whoIsAt("1003") != "1001@acme.example" {
		t.Errorf("heard %v; 1003 seats %q", c.heard, o.whoIsAt("1003"))
	}
}

func TestStar072SilenceStarOrTooManyDigitsUseUpATry(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	c := &phoneCall{t: t, keys: []string{"", "555*1001", "1234567890123456789"}}
	o.star072(c, "1003")
	want := append(repeat(3, sounds.EnterID, sounds.Invalid), sounds.TooMany)
	if !slices.Equal(c.heard, want) || !c.pbxHungUp {
		t.Errorf("heard %v, want %v", c.heard, want)
	}
	if got := o.actions(func(a store.AuditEntry) bool { return a.Action != "admin-change" }); len(got) != 0 {
		t.Errorf("keying no ID was audited or counted: %v", got)
	}
}

func TestCallerHangsUpMidway(t *testing.T) {
	cases := []struct {
		name      string
		keys      []string
		hangUpAt  int
		wantAudit []string
		seated    bool
	}{
		{"during the ID prompt", nil, 1, nil, false},
		{"during the password prompt", []string{"5551001"}, 2, []string{"failed/abandoned"}, false},
		{"while keying the password", []string{"5551001", hangUp}, 0, []string{"failed/abandoned"}, false},
		{"after a wrong password", []string{"5551001", "6048"}, 3, []string{"failed/wrong-pin"}, false},
		{"during the confirmation", []string{"5551001", "5937"}, 3, []string{"login/ok"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffice(t)
			o.hotdesker("1001", "5551001", "5937")
			c := &phoneCall{t: t, keys: tc.keys, hangUpAtPlay: tc.hangUpAt}
			o.star072(c, "1003")
			if c.pbxHungUp {
				t.Error("hung up a call the caller had already left")
			}
			got := o.actions(func(a store.AuditEntry) bool { return a.Action != "admin-change" })
			if !slices.Equal(got, tc.wantAudit) {
				t.Errorf("audit = %v, want %v", got, tc.wantAudit)
			}
			if seated := o.whoIsAt("1003") != ""; seated != tc.seated {
				t.Errorf("seated = %v, want %v", seated, tc.seated)
			}
		})
	}
}

func TestStar073LogsOut(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.mustLogin("5551001", "5937", "1003")
	c := &phoneCall{t: t, keys: []string{"5551001", "5937"}}
	o.star073(c, "1003")
	if !slices.Equal(c.heard, []string{sounds.EnterID, sounds.EnterPIN, sounds.LoggedOut}) || !c.pbxHungUp {
		t.Errorf("heard %v", c.heard)
	}
	if o.whoIsAt("1003") != "" {
		t.Error("still seated after *073")
	}
	c = &phoneCall{t: t, keys: []string{"5551001", "0000", "5551001", "0000", "5551001", "0000"}}
	o.star073(c, "1003")
	if !slices.Equal(c.heard, append(repeat(3, sounds.EnterID, sounds.EnterPIN, sounds.Invalid), sounds.TooMany)) {
		t.Errorf("*073 with wrong passwords: heard %v", c.heard)
	}
}

func TestStar072WhereItIsSwitchedOff(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	off := false
	o.settings("acme.example", store.HotdeskSettings{Login: &off, Logout: &off})
	for name, run := range map[string]func(*phoneCall, string){"*072": o.star072, "*073": o.star073} {
		c := &phoneCall{t: t, keys: []string{"5551001", "5937"}}
		run(c, "1003")
		if !slices.Equal(c.heard, []string{sounds.NotEnabled, sounds.Goodbye}) || !c.pbxHungUp || c.collects != 0 {
			t.Errorf("%s switched off: heard %v, hung up %v, %d collects", name, c.heard, c.pbxHungUp, c.collects)
		}
	}
	c := &phoneCall{t: t, keys: []string{"5551001", "5937"}}
	o.star072(c, "2001@beta.example")
	if o.whoIsAt("2001@beta.example") != "1001@acme.example" {
		t.Errorf("acme's switch stopped a login at a beta phone: heard %v", c.heard)
	}
}

func TestLockedFlowSoundsLikeAWrongPassword(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	for i := 0; i < IDAttempts; i++ {
		o.login("5551001", "0000", "1004")
	}
	locked := &phoneCall{t: t, keys: repeat(3, "5551001", "5937")} // right password, locked ID
	o.star072(locked, "1003")
	wrong := &phoneCall{t: t, keys: repeat(3, "5551002", "1357")} // wrong password, free ID
	o.star072(wrong, "1005")
	if !slices.Equal(locked.heard, wrong.heard) || locked.pbxHungUp != wrong.pbxHungUp {
		t.Errorf("locked ID heard %v, wrong password heard %v", locked.heard, wrong.heard)
	}
	if o.whoIsAt("1003") != "" {
		t.Error("a locked ID logged in")
	}
}
