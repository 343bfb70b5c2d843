package hotdesk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"deskpbx/store"
)

func TestLoginAtAPhoneMakesItTheirs(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	res := o.mustLogin("5551001", "5937", "1003")
	if res.Person.AOR() != "1001@acme.example" || res.RingTarget != "1003@acme.example" || res.MovedFrom != "" || res.Replaced != "" {
		t.Fatalf("login = %+v", res)
	}
	if got := o.whoIsAt("1003"); got != "1001@acme.example" {
		t.Errorf("calls from 1003 are made as %q, want 1001@acme.example", got)
	}
	if got := o.ringsAt("1001"); got != "1003@acme.example" {
		t.Errorf("calls to 1001 ring %q, want 1003@acme.example", got)
	}
	if got := o.whoIsAt("1001"); got != "" {
		t.Errorf("1001's own phone is seated by %q", got)
	}
	if got := o.ringsAt("1003"); got != "" {
		t.Errorf("1003 (a phone, nobody's person) rings elsewhere: %q", got)
	}
	e, _ := o.db.HotdeskEntryByID(o.ctx, "5551001")
	if e.Seat != "1003@acme.example" || e.RingTarget() != "1003@acme.example" || !e.SeatedSince.Equal(t0) {
		t.Errorf("entry after login = seat %q, dial string %q, since %v", e.Seat, e.RingTarget(), e.SeatedSince)
	}
	rows := o.audit()
	if len(rows) != 2 || rows[0].Action != "login" || rows[0].Actor != "1003@acme.example" || rows[0].Seat != "1003@acme.example" ||
		rows[0].Person != "1001@acme.example" || rows[0].IDTried != "5551001" || rows[0].Source != "192.0.2.10:5060" {
		t.Errorf("audit after login = %+v", rows)
	}
}

func TestLoggingInElsewhereFreesTheOldPhone(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.mustLogin("5551001", "5937", "1003")
	res := o.mustLogin("5551001", "5937", "1004")
	if res.MovedFrom != "1003@acme.example" {
		t.Errorf("MovedFrom = %q, want 1003@acme.example", res.MovedFrom)
	}
	if o.whoIsAt("1003") != "" || o.whoIsAt("1004") != "1001@acme.example" || o.ringsAt("1001") != "1004@acme.example" {
		t.Errorf("after the move: 1003 seats %q, 1004 seats %q, 1001 rings %q", o.whoIsAt("1003"), o.whoIsAt("1004"), o.ringsAt("1001"))
	}
	if len(o.sessions()) != 1 {
		t.Errorf("%d sessions after a move, want 1", len(o.sessions()))
	}
	if got := o.actions(nil); !slices.Equal(got[len(got)-2:], []string{"login/ok", "move/ok"}) {
		t.Errorf("audit = %v, want a login then a move", got)
	}
}

func TestLoggingInAtAnOccupiedPhoneReplacesWhoeverSatThere(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	o.mustLogin("5551001", "5937", "1003")
	res := o.mustLogin("5551002", "6048", "1003")
	if res.Replaced != "1001@acme.example" {
		t.Errorf("Replaced = %q, want 1001@acme.example", res.Replaced)
	}
	if o.whoIsAt("1003") != "1002@acme.example" || o.ringsAt("1001") != "" || o.ringsAt("1002") != "1003@acme.example" {
		t.Errorf("after the replace: 1003 seats %q, 1001 rings %q, 1002 rings %q", o.whoIsAt("1003"), o.ringsAt("1001"), o.ringsAt("1002"))
	}
	rows := o.audit()
	if rows[1].Action != "replace" || rows[1].Person != "1001@acme.example" || rows[0].Action != "login" || rows[0].Person != "1002@acme.example" {
		t.Errorf("audit = %+v, want 1001 replaced then 1002 logged in", rows[:2])
	}
}

func TestLogoutEndsTheSessionFromAnyPhone(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.mustLogin("5551001", "5937", "1003")
	sess, err := o.s.Logout(o.ctx, "5551001", "5937", o.ext("1004"), "192.0.2.11:5060")
	if err != nil || sess == nil || sess.Device != "1003@acme.example" {
		t.Fatalf("logout = %+v, %v; want the session at 1003 ended", sess, err)
	}
	if o.whoIsAt("1003") != "" || o.ringsAt("1001") != "" {
		t.Error("session outlived its logout")
	}
	sess, err = o.s.Logout(o.ctx, "5551001", "5937", o.ext("1004"), "")
	if err != nil || sess != nil {
		t.Errorf("second logout = %+v, %v; want nothing to end and no error", sess, err)
	}
	if _, err := o.s.Logout(o.ctx, "5551001", "0000", o.ext("1004"), ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("logout with a wrong password: %v", err)
	}
	if got := o.actions(nil); !slices.Equal(got[1:], []string{"login/ok", "logout/ok", "logout/not-seated", "failed/wrong-pin"}) {
		t.Errorf("audit = %v", got)
	}
}

func TestCompanyPINBeatsOwnPasswordBeatsVoicemailPIN(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "") // voicemail PIN 4826
	o.hotdesker("1005", "5551005", "") // no secret at all
	try := func(pin string) error { _, err := o.login("5551001", pin, "1003"); return err }
	if err := try("4826"); err != nil {
		t.Fatalf("voicemail PIN without an own password: %v", err)
	}
	if _, err := o.db.UpdateHotdeskEntry(o.ctx, "5551001", store.HotdeskEntryUpdate{PIN: ptr("5937")}, "test"); err != nil {
		t.Fatal(err)
	}
	if try("4826") == nil || try("5937") != nil {
		t.Error("with an own password, the voicemail PIN still works or the password does not")
	}
	pin := "739155"
	o.settings("acme.example", store.HotdeskSettings{CompanyPIN: &pin})
	if try("5937") == nil || try("739155") != nil {
		t.Error("with a company PIN, the own password still works or the company PIN does not")
	}
	// beta's company PIN is beta's: it does not open acme's IDs.
	betaPIN := "815263"
	o.settings("beta.example", store.HotdeskSettings{CompanyPIN: &betaPIN})
	if try("815263") == nil {
		t.Error("another tenant's company PIN logs in")
	}
	none := ""
	o.settings("acme.example", store.HotdeskSettings{CompanyPIN: &none})
	if try("5937") != nil {
		t.Error("the own password does not work once the company PIN is gone")
	}
	for _, pin := range []string{"", "0000", "4826"} {
		if _, err := o.login("5551005", pin, "1003"); !errors.Is(err, ErrInvalid) {
			t.Errorf("ID without any secret logs in with %q: %v", pin, err)
		}
	}
}

func TestFiveWrongPasswordsLockTheIDForFifteenMinutes(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	seats := []string{"1003", "1004", "1005", "1006", "1007"}
	for i, seat := range seats { // from five phones: the ID counts, not the phone
		if _, err := o.login("5551001", fmt.Sprint(6000+i), seat); !errors.Is(err, ErrInvalid) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
		o.now.Advance(time.Minute)
	}
	if _, err := o.login("5551001", "5937", "1008"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("right password on a locked ID: %v, want ErrInvalid", err)
	}
	e, _ := o.db.HotdeskEntryByID(o.ctx, "5551001")
	if !e.Locked(o.now.Now()) {
		t.Error("entry does not show the lockout")
	}
	o.now.Set(t0.Add(4*time.Minute + LockFor - time.Second)) // the fifth failure was at t0+4m
	if _, err := o.login("5551001", "5937", "1008"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("right password a second before the lockout ends: %v", err)
	}
	o.now.Set(t0.Add(4*time.Minute + LockFor))
	if _, err := o.login("5551001", "5937", "1008"); err != nil {
		t.Fatalf("right password once the lockout ended: %v", err)
	}
	locked := o.actions(func(a store.AuditEntry) bool { return a.Action == "lockout" || a.Action == "locked" })
	if !slices.Equal(locked, []string{"lockout/id", "locked/id-locked", "locked/id-locked"}) {
		t.Errorf("lockout audit = %v", locked)
	}

	// Failures spread wider than the window never add up to a lockout,
	// and the admin can lift one early.
	o.hotdesker("1002", "5551002", "6048")
	for i := 0; i < 12; i++ {
		o.login("5551002", "0000", "1003")
		o.now.Advance(4 * time.Minute)
	}
	if _, err := o.login("5551002", "6048", "1003"); err != nil {
		t.Fatalf("4 failures per 16 minutes locked the ID: %v", err)
	}
	for i := 0; i < IDAttempts; i++ {
		o.login("5551002", "0000", "1004")
	}
	if was, err := o.s.Unlock(o.ctx, "5551002", "admin"); !was || err != nil {
		t.Fatalf("Unlock = %v, %v", was, err)
	}
	if _, err := o.login("5551002", "6048", "1004"); err != nil {
		t.Fatalf("login after the admin unlocked: %v", err)
	}
	if _, err := o.s.Unlock(o.ctx, "9999999", "admin"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("Unlock of an unknown ID: %v", err)
	}
}

func TestTenFailuresFromOnePhoneLockItsCodesEvenForUnknownIDs(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	for i := 0; i < SeatAttempts; i++ { // ten different IDs, none of them real
		if _, err := o.login(fmt.Sprint(7770000+i), "5937", "1003"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("unknown ID %d: %v", i, err)
		}
	}
	if _, err := o.login("5551001", "5937", "1003"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("right ID and password at a locked phone: %v", err)
	}
	if _, err := o.s.Logout(o.ctx, "5551001", "5937", o.ext("1003"), ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("*073 at a locked phone: %v", err)
	}
	if _, err := o.login("5551001", "5937", "1004"); err != nil {
		t.Fatalf("the lockout of 1003 spread to 1004: %v", err)
	}
	// The person's ID took no blame for the phone's guessing.
	if e, _ := o.db.HotdeskEntryByID(o.ctx, "5551001"); e.Locked(o.now.Now()) {
		t.Error("the seat lockout locked an ID")
	}
	o.now.Advance(LockFor)
	if _, err := o.login("5551001", "5937", "1003"); err != nil {
		t.Fatalf("login at 1003 after its lockout ended: %v", err)
	}
	for i := 0; i < SeatAttempts; i++ {
		o.login("1", "1", "1005")
	}
	if was, err := o.s.UnlockSeat(o.ctx, o.ext("1005"), "admin"); !was || err != nil {
		t.Fatalf("UnlockSeat = %v, %v", was, err)
	}
	if _, err := o.login("5551001", "5937", "1005"); err != nil {
		t.Fatalf("login at 1005 after the admin unlocked it: %v", err)
	}
}

func TestLockoutSurvivesARestart(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	for i := 0; i < IDAttempts; i++ {
		o.login("5551001", "0000", "1003")
	}
	o.restart()
	if _, err := o.login("5551001", "5937", "1004"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("restart lifted the lockout: %v", err)
	}
}

func TestALockedAttemptLooksExactlyLikeAWrongPassword(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	_, wrong := o.login("5551001", "0000", "1003")
	for i := 1; i < IDAttempts; i++ {
		o.login("5551001", "0000", "1003")
	}
	_, locked := o.login("5551001", "5937", "1003")
	_, unknown := o.login("5550000", "5937", "1003")
	if wrong != ErrInvalid || locked != ErrInvalid || unknown != ErrInvalid {
		t.Errorf("wrong = %v, locked = %v, unknown = %v: want the one ErrInvalid for all", wrong, locked, unknown)
	}
	// What a caller hears is compared in TestLockedFlowSoundsLikeAWrongPassword.
}

func TestTheSeatsTenantDecidesWhetherHotDeskingWorksThere(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("2001@beta.example", "5552001", "6048")
	off, on := false, true
	o.settings("acme.example", store.HotdeskSettings{Login: &off})

	if _, err := o.login("5551001", "5937", "1003"); err != ErrNotEnabled {
		t.Errorf("login at an acme phone with acme login off: %v", err)
	}
	if _, err := o.login("5552001", "6048", "1003"); err != ErrNotEnabled {
		t.Errorf("beta person at an acme phone with acme login off: %v", err)
	}
	// acme's people can still sit at beta's phones: beta allows it.
	if _, err := o.login("5551001", "5937", "2002@beta.example"); err != nil {
		t.Errorf("acme person at a beta phone: %v", err)
	}
	if o.whoIsAt("2002@beta.example") != "1001@acme.example" || o.ringsAt("1001") != "2002@beta.example" {
		t.Error("cross-tenant login did not seat")
	}
	// A refusal for a switched-off feature is no guess: nothing counts.
	for i := 0; i < SeatAttempts+1; i++ {
		o.login("5551001", "0000", "1003")
	}
	o.settings("acme.example", store.HotdeskSettings{Login: &on, Logout: &off})
	if _, err := o.login("5551001", "5937", "1003"); err != nil {
		t.Errorf("login after switching acme back on: %v", err)
	}
	if _, err := o.s.Logout(o.ctx, "5551001", "5937", o.ext("1003"), ""); err != ErrNotEnabled {
		t.Errorf("logout at an acme phone with acme logout off: %v", err)
	}
	if sess, err := o.s.Logout(o.ctx, "5551001", "5937", o.ext("2003@beta.example"), ""); err != nil || sess == nil {
		t.Errorf("logout at a beta phone: %v, %v", sess, err)
	}
}

func TestDailyAutoLogoutFreesSeatsTakenBeforeTheTime(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	o.hotdesker("2001@beta.example", "5552001", "6048")
	at := "19:00"
	o.settings("acme.example", store.HotdeskSettings{AutologoutAt: &at})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

	o.now.Set(day.Add(18 * time.Hour))
	o.mustLogin("5551001", "5937", "1003")
	o.mustLogin("5552001", "6048", "2002@beta.example") // beta has no auto-logout
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{18*time.Hour + 59*time.Minute, 0}, {19 * time.Hour, 1}, {19*time.Hour + 30*time.Second, 0}} {
		if n, err := o.s.AutoLogoutOnce(o.ctx, day.Add(c.at)); n != c.want || err != nil {
			t.Fatalf("auto-logout at %v ended %d (%v), want %d", c.at, n, err, c.want)
		}
	}
	if o.whoIsAt("1003") != "" || o.whoIsAt("2002@beta.example") == "" {
		t.Error("19:00 freed the wrong seats")
	}

	// Logged in after the cut-off: stays until the next day's. A server
	// that was down at 19:00 catches up when it next looks.
	o.now.Set(day.Add(19*time.Hour + 5*time.Minute))
	o.mustLogin("5551002", "6048", "1004")
	if n, _ := o.s.AutoLogoutOnce(o.ctx, day.Add(23*time.Hour)); n != 0 {
		t.Error("a login after 19:00 was ended the same evening")
	}
	if n, _ := o.s.AutoLogoutOnce(o.ctx, day.Add(24*time.Hour+19*time.Hour+3*time.Hour)); n != 1 {
		t.Error("the next day's 19:00 did not end the session")
	}
	rows := o.audit()
	if rows[0].Action != "autologout" || rows[0].Actor != "system" || !strings.Contains(rows[0].Detail, "19:00") {
		t.Errorf("audit = %+v", rows[0])
	}
}

func TestAutoLogoutAfterHoursSeated(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	after := 8 * time.Hour
	o.settings("acme.example", store.HotdeskSettings{AutologoutAfter: &after})
	o.mustLogin("5551001", "5937", "1003")
	if n, _ := o.s.AutoLogoutOnce(o.ctx, t0.Add(after-time.Second)); n != 0 {
		t.Fatal("ended before 8 hours")
	}
	// A fresh login restarts the clock.
	o.now.Set(t0.Add(4 * time.Hour))
	o.mustLogin("5551001", "5937", "1003")
	if n, _ := o.s.AutoLogoutOnce(o.ctx, t0.Add(after)); n != 0 {
		t.Fatal("re-login did not restart the 8 hours")
	}
	if n, _ := o.s.AutoLogoutOnce(o.ctx, t0.Add(4*time.Hour+after)); n != 1 {
		t.Fatal("not ended after 8 hours")
	}
	if o.whoIsAt("1003") != "" {
		t.Error("seat still taken")
	}
}

func TestAutoLogoutLoopStopsWithItsContext(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	after := time.Hour
	o.settings("acme.example", store.HotdeskSettings{AutologoutAfter: &after})
	o.mustLogin("5551001", "5937", "1003")
	o.now.Advance(2 * time.Hour)
	ctx, cancel := context.WithCancel(o.ctx)
	done := make(chan struct{})
	go func() { o.s.RunAutoLogout(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for o.whoIsAt("1003") != "" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if o.whoIsAt("1003") != "" {
		t.Error("RunAutoLogout did not end an overdue session on start")
	}
}

func TestForceLogoutOfOneOrEveryone(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	o.hotdesker("2001@beta.example", "5552001", "6048")
	o.mustLogin("5551001", "5937", "1003")
	o.mustLogin("5551002", "6048", "1004")
	o.mustLogin("5552001", "6048", "2002@beta.example")
	sess, err := o.s.ForceLogout(o.ctx, "5551001", "alice")
	if err != nil || sess == nil || sess.Device != "1003@acme.example" {
		t.Fatalf("ForceLogout = %+v, %v", sess, err)
	}
	if sess, err := o.s.ForceLogout(o.ctx, "5551001", "alice"); sess != nil || err != nil {
		t.Errorf("second ForceLogout = %+v, %v; want nothing", sess, err)
	}
	beta, _ := o.db.TenantByDomain(o.ctx, "beta.example")
	if n, err := o.s.ForceLogoutAll(o.ctx, beta.ID, "alice"); n != 1 || err != nil {
		t.Errorf("ForceLogoutAll(beta) = %d, %v", n, err)
	}
	if o.whoIsAt("1004") == "" {
		t.Error("logging out beta ended an acme session")
	}
	if n, err := o.s.ForceLogoutAll(o.ctx, 0, "alice"); n != 1 || err != nil {
		t.Errorf("ForceLogoutAll(all) = %d, %v", n, err)
	}
	if len(o.sessions()) != 0 {
		t.Error("sessions left after logging everyone out")
	}
	forced := o.actions(func(a store.AuditEntry) bool { return a.Action == "force-logout" && a.Actor == "alice" })
	if len(forced) != 3 {
		t.Errorf("force-logout audit rows = %v, want 3", forced)
	}
}

func TestAnAdminsDialStringOverrideOutlivesLogins(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	if _, err := o.db.UpdateHotdeskEntry(o.ctx, "5551001", store.HotdeskEntryUpdate{DialOverride: ptr("1009@acme.example")}, "alice"); err != nil {
		t.Fatal(err)
	}
	if o.ringsAt("1001") != "" {
		t.Error("an override rings while the person is not seated")
	}
	res := o.mustLogin("5551001", "5937", "1003")
	if res.RingTarget != "1009@acme.example" || o.ringsAt("1001") != "1009@acme.example" || o.whoIsAt("1003") != "1001@acme.example" {
		t.Errorf("with an override: dial string %q, rings %q, 1003 calls as %q", res.RingTarget, o.ringsAt("1001"), o.whoIsAt("1003"))
	}
	o.mustLogin("5551001", "5937", "1004")
	if o.ringsAt("1001") != "1009@acme.example" {
		t.Error("a move dropped the override")
	}
	if _, err := o.db.UpdateHotdeskEntry(o.ctx, "5551001", store.HotdeskEntryUpdate{DialOverride: ptr("")}, "alice"); err != nil {
		t.Fatal(err)
	}
	if o.ringsAt("1001") != "1004@acme.example" {
		t.Errorf("without the override calls ring %q, want the seat", o.ringsAt("1001"))
	}
	if _, err := o.db.UpdateHotdeskEntry(o.ctx, "5551001", store.HotdeskEntryUpdate{DialOverride: ptr("1999@acme.example")}, "alice"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("override to a missing extension: %v", err)
	}
}

func TestSessionsSurviveARestart(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.mustLogin("5551001", "5937", "1003")
	o.restart()
	if o.whoIsAt("1003") != "1001@acme.example" || o.ringsAt("1001") != "1003@acme.example" {
		t.Error("the session did not survive a restart")
	}
}

// TestTwoPhonesLogInAsOnePersonAtOnce races two logins of one ID from
// two phones, many times: every round must end with the person at
// exactly one of them and an audit row for each attempt.
func TestTwoPhonesLogInAsOnePersonAtOnce(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("1002", "5551002", "6048")
	seats := []*store.Extension{o.ext("1003"), o.ext("1004"), o.ext("1005")}
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		start := make(chan struct{})
		for i, seat := range seats {
			id, pin := "5551001", "5937"
			if i == 2 { // someone else grabs one of the two phones meanwhile
				seat, id, pin = seats[r%2], "5551002", "6048"
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := o.s.Login(o.ctx, id, pin, seat, "")
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", r, err)
			}
		}
		ss := o.sessions()
		var mine []string
		devices := map[int64]bool{}
		for _, s := range ss {
			if devices[s.DeviceID] {
				t.Fatalf("round %d: two people at %s", r, s.Device)
			}
			devices[s.DeviceID] = true
			if s.Person == "1001@acme.example" {
				mine = append(mine, s.Device)
			}
		}
		if len(mine) > 1 {
			t.Fatalf("round %d: 1001 seated at %v", r, mine)
		}
		// 1001 may have been replaced by 1002 at its final phone; then
		// it sits nowhere, which is also consistent.
		if len(mine) == 1 && o.whoIsAt(strings.TrimSuffix(mine[0], "@acme.example")) != "1001@acme.example" {
			t.Fatalf("round %d: PersonAt disagrees with the session table", r)
		}
	}
	attempts := o.actions(func(a store.AuditEntry) bool { return a.Action == "login" || a.Action == "move" })
	if len(attempts) != 3*rounds {
		t.Errorf("%d audit rows for %d login attempts", len(attempts), 3*rounds)
	}
}

func TestTheAuditLogNeverHoldsAPIN(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	pin := "739155"
	o.settings("acme.example", store.HotdeskSettings{CompanyPIN: &pin})
	o.login("5551001", "5937", "1003")
	o.login("5551001", "739155", "1003")
	o.s.Logout(o.ctx, "5551001", "739155", o.ext("1003"), "")
	for i := 0; i < 12; i++ {
		o.login("5551001", "8642", "1004")
	}
	for _, a := range o.audit() {
		row := fmt.Sprintf("%+v", a)
		for _, secret := range []string{"5937", "739155", "8642", "4826"} {
			if strings.Contains(row, secret) {
				t.Errorf("audit row holds %s: %s", secret, row)
			}
		}
	}
}

func TestLoginLatencyIsRecorded(t *testing.T) {
	var r latencyRecorder
	for i := 1; i <= 100; i++ {
		r.add(time.Duration(i) * time.Millisecond)
	}
	st := r.stats()
	if st.Count != 100 || st.P50 != 51*time.Millisecond || st.P99 != 100*time.Millisecond || st.Max != 100*time.Millisecond {
		t.Errorf("stats = %+v", st)
	}
	for i := 0; i < 5000; i++ {
		r.add(time.Millisecond)
	}
	if st := r.stats(); st.Count != 5100 || st.Max != time.Millisecond {
		t.Errorf("old samples not dropped: %+v", st)
	}
}
