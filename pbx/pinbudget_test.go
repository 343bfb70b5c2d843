package pbx

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/hotdesk"
	"deskpbx/internal/testclock"
	"deskpbx/internal/testphone"
	"deskpbx/store"
)

// The attack: a company PIN opens every ID of its tenant, so a guesser
// who knows 30 IDs tries one PIN on each, from four phones, and stays
// under every ID's and every phone's limit. The budget of the company
// PIN, shared by all its IDs, stops it: once spent, not even the right
// PIN gets in, until the lockout ends.
func TestCompanyPINGuessedAcrossIDsIsStopped(t *testing.T) {
	o, hd := hotdeskOffice(t)
	clock := testclock.At(time.Now())
	hd.Now = clock.Now
	ctx := context.Background()
	pin := "482619"
	if _, err := o.db.SetTenantHotdesk(ctx, "acme.example", store.HotdeskSettings{CompanyPIN: &pin}, "test"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 30 {
		num := strconv.Itoa(1100 + i)
		if _, err := o.db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: num, Password: "pw-" + num + "-x"}); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("6660%02d", i)
		if _, err := o.db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: num, HotdeskID: id}, "test"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	seats := []*testphone.Phone{o.phone("1002"), o.phone("1003"), o.phone("1100"), o.phone("1101")}
	for _, p := range seats {
		p.Register()
	}
	// One try per ID, three per call, the calls dealt out to the phones
	// in turn: at most 9 failures a phone (its limit is 10), one an ID
	// (5). The last try of all is the right PIN.
	var calls [][]string
	for i, id := range ids {
		guess := fmt.Sprintf("%06d", 100003+7919*i)
		if i == len(ids)-1 {
			guess = pin
		}
		if i%hotdesk.MaxTries == 0 {
			calls = append(calls, nil)
		}
		calls[len(calls)-1] = append(calls[len(calls)-1], id+"#"+guess+"#")
	}
	// The phones guess at once, as an attacker would; the call with the
	// right PIN comes last.
	last := len(calls) - 1
	t.Run("guessing", func(t *testing.T) {
		for s, seat := range seats {
			t.Run(seat.User, func(t *testing.T) {
				t.Parallel()
				for c := s; c < last; c += len(seats) {
					seat.KeyIn(t, "*072", strings.Join(calls[c], ""))
				}
			})
		}
	})
	seats[last%len(seats)].KeyIn(t, "*072", strings.Join(calls[last], ""))
	if n := seated(t, o); n != 0 {
		t.Fatalf("the right company PIN got in after %d wrong guesses over as many IDs", len(ids)-1)
	}
	log, err := o.db.HotdeskAudit(ctx, 0, 500)
	if err != nil {
		t.Fatal(err)
	}
	var secretLockouts, seatOrIDLockouts int
	for _, a := range log {
		switch {
		case a.Action == "lockout" && a.Outcome == "secret":
			secretLockouts++
		case a.Action == "lockout":
			seatOrIDLockouts++
		}
	}
	if secretLockouts != 1 || seatOrIDLockouts != 0 {
		t.Fatalf("lockouts: %d of the company PIN, %d of phones or IDs; want 1 and 0", secretLockouts, seatOrIDLockouts)
	}
	// The lockout, and nothing else, was what refused the right PIN.
	clock.Advance(hotdesk.LockFor + time.Second)
	seats[0].KeyIn(t, "*072", ids[len(ids)-1]+"#"+pin+"#")
	if n := seated(t, o); n != 1 {
		t.Fatal("the company PIN does not work once its lockout has ended")
	}
}
