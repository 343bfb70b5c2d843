package hotdesk

import (
	"strconv"
	"testing"
	"time"

	"deskpbx/store"
)

// The attack: guesses spread over many phones of a tenant (each under its
// own limit) and over IDs that do not exist (which no ID counts). The
// tenant's budget ends it: once spent, no *072 at the tenant's phones or
// for its IDs gets in, a right password included, and the answer is the
// same as for a wrong one. Another tenant is not affected.
func TestTenantBudgetStopsGuessesSpreadOverPhones(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1001", "5551001", "5937")
	o.hotdesker("2001@beta.example", "7772001", "5937")
	guesses := 0
	for seat := 1003; guesses < TenantAttempts; seat++ {
		for i := 0; i < SeatAttempts-1 && guesses < TenantAttempts; i++ {
			if _, err := o.login(strconv.Itoa(9000000+guesses), "5937", strconv.Itoa(seat)); err != ErrInvalid {
				t.Fatalf("guess %d: %v, want ErrInvalid", guesses, err)
			}
			guesses++
		}
	}
	if _, err := o.login("5551001", "5937", "1009"); err != ErrInvalid {
		t.Fatalf("right password at a fresh phone of the locked tenant: %v, want ErrInvalid", err)
	}
	if _, err := o.login("5551001", "5937", "2002@beta.example"); err != ErrInvalid {
		t.Fatalf("right password for the locked tenant's ID at another tenant's phone: %v, want ErrInvalid", err)
	}
	o.mustLogin("7772001", "5937", "2002@beta.example")
	var lockouts []string
	for _, a := range o.audit() {
		if a.Action == "lockout" {
			lockouts = append(lockouts, a.Outcome)
		}
	}
	if len(lockouts) != 1 || lockouts[0] != "tenant" {
		t.Fatalf("lockouts = %v, want one of the tenant", lockouts)
	}
	o.now.Advance(LockFor)
	o.mustLogin("5551001", "5937", "1009")
}

// One list of common PINs is refused wherever a PIN is set: a company
// PIN, an own hot-desk password, a voicemail PIN (new extension, admin
// change, or the owner's *97 menu, which calls SetVoicemailPIN).
func TestCommonPINsRefusedEverywhere(t *testing.T) {
	o := newOffice(t)
	o.hotdesker("1005", "5551005", "")
	for _, pin := range []string{"159753", "121212", "112233", "696969", "1234567", "12345678", "7777777", "123123"} {
		if _, err := o.db.SetTenantHotdesk(o.ctx, "acme.example", store.HotdeskSettings{CompanyPIN: &pin}, "test"); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("company PIN %s: %v", pin, err)
		}
		if _, err := o.db.UpdateHotdeskEntry(o.ctx, "5551005", store.HotdeskEntryUpdate{PIN: &pin}, "test"); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("own hot-desk password %s: %v", pin, err)
		}
		if err := o.db.SetVoicemailPIN(o.ctx, o.ext("1005").ID, pin, "test"); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("voicemail PIN %s: %v", pin, err)
		}
		if _, err := o.db.CreateExtension(o.ctx, store.NewExtension{Domain: "acme.example", Number: "1099", Password: "secret-1099", PIN: pin}); store.ErrorCode(err) != store.EINVALID {
			t.Errorf("new extension's voicemail PIN %s: %v", pin, err)
		}
	}
	// A company PIN must be 6 digits or more.
	short := "4826"
	if _, err := o.db.SetTenantHotdesk(o.ctx, "acme.example", store.HotdeskSettings{CompanyPIN: &short}, "test"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("4-digit company PIN: %v", err)
	}
}

// A tenant admin's clashes with other tenants' IDs count for a day: the
// sweep that forgets old login failures keeps them, so probing slowly
// does not get more answers.
func TestIDClashesCountForADay(t *testing.T) {
	o := newOffice(t)
	acme := o.ext("1001").TenantID
	for range IDClashes - 1 {
		if err := o.s.IDClashed(o.ctx, acme, "acme-boss"); err != nil {
			t.Fatal(err)
		}
		o.now.Advance(time.Hour)
		if _, err := o.s.AutoLogoutOnce(o.ctx, o.now.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if locked, _ := o.s.IDChoiceLocked(o.ctx, acme); locked {
		t.Fatal("locked before the budget was spent")
	}
	o.s.IDClashed(o.ctx, acme, "acme-boss")
	if locked, _ := o.s.IDChoiceLocked(o.ctx, acme); !locked {
		t.Fatal("clashes spread over hours did not add up")
	}
	if locked, _ := o.s.IDChoiceLocked(o.ctx, o.ext("2001@beta.example").TenantID); locked {
		t.Fatal("another tenant's admins are locked too")
	}
}
