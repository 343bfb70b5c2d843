package admin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"deskpbx/hotdesk"
	"deskpbx/store"
)

// addEntry gives e a hot-desk ID through the page, as admin b.
func (b *browser) addEntry(e *store.Extension, id, pin string) {
	b.t.Helper()
	res := b.post("/hotdesk", url.Values{"extension": {idOf(e)}, "hotdesk_id": {id}, "pin": {pin}, "description": {"desk of " + e.DisplayName}})
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("adding hot-desk ID %s: %d\n%s", id, res.status, res.body)
	}
}

func idOf(e *store.Extension) string { return id(e.ID) }

func TestHotDeskEntriesAreManagedOnThePage(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	boss := o.login("acme-boss")
	boss.addEntry(o.ada, "50017", "4826")
	page := boss.get("/hotdesk").body
	for _, want := range []string{"1001", "50017", "not seated", "desk of Ada Lovelace", "Log out everyone"} {
		if !strings.Contains(page, want) {
			t.Errorf("hot-desk page lacks %q", want)
		}
	}

	// IDs are unique across tenants, and a clash does not say whose.
	res := boss.post("/hotdesk", url.Values{"extension": {idOf(o.grace)}, "hotdesk_id": {"50017"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "already in use") {
		t.Errorf("duplicate ID in the same tenant: %d", res.status)
	}
	beta := o.login("beta-boss")
	res = beta.post("/hotdesk", url.Values{"extension": {idOf(o.bob)}, "hotdesk_id": {"50017"}, "description": {"Bob's"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "already in use") {
		t.Fatalf("duplicate ID from another tenant: %d\n%s", res.status, res.body)
	}
	if strings.Contains(res.body, "acme") || strings.Contains(res.body, "1001") {
		t.Error("the refusal reveals who holds the ID")
	}
	if !strings.Contains(res.body, `value="50017"`) || !strings.Contains(res.body, `value="Bob&#39;s"`) {
		t.Error("typed values not kept")
	}
	res = boss.post("/hotdesk", url.Values{"extension": {idOf(o.grace)}, "hotdesk_id": {"12"}, "pin": {"1111"}})
	if res.status != http.StatusUnprocessableEntity || !regexp.MustCompile(`id="e-hotdesk_id">[^<]*shorter than 4 digits`).MatchString(res.body) ||
		!regexp.MustCompile(`id="e-pin">[^<]*repeated digit`).MatchString(res.body) {
		t.Errorf("bad ID and PIN not answered beside their fields: %d", res.status)
	}
	if res := boss.post("/hotdesk", url.Values{"extension": {idOf(o.ada)}, "hotdesk_id": {"50099"}}); !strings.Contains(res.body, "already has a hot-desk ID") {
		t.Error("second entry for one extension not refused")
	}

	// Edit: ID, description, dial-string override (own tenant only).
	res = boss.post("/hotdesk/"+idOf(o.ada), url.Values{"hotdesk_id": {"50018"}, "description": {"window seat"}, "dial_override": {"2001@beta.example"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "No extension 2001@beta.example") {
		t.Errorf("override to another tenant's extension: %d", res.status)
	}
	res = boss.post("/hotdesk/"+idOf(o.ada), url.Values{"hotdesk_id": {"50018"}, "description": {"window seat"}, "dial_override": {"1002@acme.example"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", res.status, res.body)
	}
	h, err := o.db.HotdeskEntryOf(ctx, o.ada.ID)
	if err != nil || h.HotdeskID != "50018" || h.Description != "window seat" || h.DialOverride != "1002@acme.example" || !store.CheckPIN(h.PINHash, "4826") {
		t.Fatalf("after edit: %+v %v", h, err)
	}

	// Seated by *072 (the service's login, as pbx calls it), shown, and
	// forced out.
	if _, err := o.hotdesk.Login(ctx, "50018", "4826", o.grace, "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	page = boss.get("/hotdesk").body
	if !strings.Contains(page, "<strong>1002@acme.example</strong>") || !strings.Contains(page, "override") {
		t.Errorf("seat or override not shown:\n%s", page)
	}
	if dash := boss.get("/").body; !strings.Contains(dash, "1001@acme.example") || !strings.Contains(dash, "<strong>1</strong> hot-desk seats taken") {
		t.Error("dashboard does not show the seat")
	}
	if res := boss.post("/hotdesk/"+idOf(o.ada)+"/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("force logout: %d", res.status)
	}
	if sess, _ := o.db.HotdeskSessions(ctx, 0); len(sess) != 0 {
		t.Fatal("still seated after force logout")
	}

	// Locked after wrong passwords; shown as locked; unlocked.
	for i := 0; i < hotdesk.IDAttempts; i++ {
		o.hotdesk.Login(ctx, "50018", "9999", o.grace, "127.0.0.1:5060")
	}
	if page := boss.get("/hotdesk").body; !strings.Contains(page, `class="badge locked"`) || !strings.Contains(page, "/unlock") {
		t.Fatal("locked ID not shown as locked with an unlock button")
	}
	if res := boss.post("/hotdesk/"+idOf(o.ada)+"/unlock", nil); res.status != http.StatusSeeOther {
		t.Fatalf("unlock: %d", res.status)
	}
	if page := boss.get("/hotdesk").body; strings.Contains(page, `class="badge locked"`) {
		t.Error("still locked after unlock")
	}
	if _, err := o.hotdesk.Login(ctx, "50018", "4826", o.grace, "x"); err != nil {
		t.Errorf("login after unlock: %v", err)
	}

	// Log out everyone.
	boss.addEntry(o.grace, "50022", "7391")
	if _, err := o.hotdesk.Login(ctx, "50022", "7391", o.ada, "x"); err != nil {
		t.Fatal(err)
	}
	if res := boss.post("/hotdesk/logout-all", nil); res.status != http.StatusSeeOther {
		t.Fatalf("logout all: %d", res.status)
	}
	if sess, _ := o.db.HotdeskSessions(ctx, 0); len(sess) != 0 {
		t.Fatalf("%d sessions after logging out everyone", len(sess))
	}

	// Every change is in the audit log, filterable.
	audit := boss.get("/audit?action=force-logout").body
	if !strings.Contains(audit, "admin:acme-boss") || strings.Count(audit, "<td data-label=\"Action\">force-logout</td>") != 3 {
		t.Errorf("audit filtered by force-logout:\n%s", audit)
	}
	if audit := boss.get("/audit?q=50018&outcome=ok").body; !strings.Contains(audit, "unlock") {
		t.Error("audit search for the ID does not find the unlock")
	}
	if res := boss.post("/hotdesk/"+idOf(o.grace)+"/delete", nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.status)
	}
	if _, err := o.db.HotdeskEntryOf(ctx, o.grace.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Error("entry not deleted")
	}
}

func TestAnotherTenantsHotDeskEntriesAreNotFound(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	o.login("acme-boss").addEntry(o.ada, "50017", "4826")
	if _, err := o.hotdesk.Login(ctx, "50017", "4826", o.grace, "x"); err != nil {
		t.Fatal(err)
	}
	beta := o.login("beta-boss")
	if page := beta.get("/hotdesk").body; strings.Contains(page, "50017") || strings.Contains(page, "1001") {
		t.Error("beta's admin sees acme's hot-desk entry")
	}
	if page := beta.get("/audit").body; strings.Contains(page, "50017") || strings.Contains(page, "1001@acme") {
		t.Error("beta's admin sees acme's audit log")
	}
	for _, p := range []string{"/hotdesk/" + idOf(o.ada), "/hotdesk?tenant=" + id(o.acme.ID), "/audit?tenant=" + id(o.acme.ID), "/hotdesk/99999"} {
		if res := beta.get(p); res.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.status)
		}
	}
	for _, p := range []string{"/hotdesk/" + idOf(o.ada), "/hotdesk/" + idOf(o.ada) + "/logout", "/hotdesk/" + idOf(o.ada) + "/unlock", "/hotdesk/" + idOf(o.ada) + "/delete"} {
		if res := beta.post(p, url.Values{"hotdesk_id": {"66666"}}); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", p, res.status)
		}
	}
	if res := beta.post("/hotdesk", url.Values{"extension": {idOf(o.ada)}, "hotdesk_id": {"66666"}}); res.status != http.StatusNotFound {
		t.Errorf("adding an entry for acme's extension: %d, want 404", res.status)
	}
	if res := beta.post("/hotdesk/logout-all", url.Values{"tenant": {id(o.acme.ID)}}); res.status != http.StatusNotFound {
		t.Errorf("logging out acme's tenant: %d, want 404", res.status)
	}
	token := beta.apiToken("t")
	for _, c := range []struct{ method, path string }{
		{"GET", "/hotdesk/" + idOf(o.ada)},
		{"PATCH", "/hotdesk/" + idOf(o.ada)},
		{"DELETE", "/hotdesk/" + idOf(o.ada)},
		{"POST", "/hotdesk/" + idOf(o.ada) + "/logout"},
		{"POST", "/hotdesk/" + idOf(o.ada) + "/unlock"},
		{"POST", "/hotdesk/logout-all?tenant=" + id(o.acme.ID)},
		{"GET", "/audit?tenant=" + id(o.acme.ID)},
	} {
		if code := o.api(token, c.method, c.path, map[string]any{}, nil); code != http.StatusNotFound {
			t.Errorf("API %s %s: %d, want 404", c.method, c.path, code)
		}
	}
	if sess, _ := o.db.HotdeskSessions(ctx, 0); len(sess) != 1 {
		t.Fatal("acme's session was ended by beta's admin")
	}
	if h, _ := o.db.HotdeskEntryOf(ctx, o.ada.ID); h == nil || h.HotdeskID != "50017" {
		t.Fatal("acme's entry was changed by beta's admin")
	}
}

func TestTenantHotDeskSettings(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	boss := o.login("acme-boss")
	form := url.Values{"hotdesk_settings": {"1"}, "hotdesk_logout": {"on"}, "autologout_at": {"25:00"}, "autologout_after": {"soon"}}
	res := boss.post("/tenants/"+id(o.acme.ID), form)
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-autologout_at"`) ||
		!strings.Contains(res.body, `id="e-autologout_after"`) || !strings.Contains(res.body, `value="25:00"`) {
		t.Fatalf("bad settings: %d\n%s", res.status, res.body)
	}
	form.Set("autologout_at", "18:30")
	form.Set("autologout_after", "8h")
	if res := boss.post("/tenants/"+id(o.acme.ID), form); res.status != http.StatusSeeOther {
		t.Fatalf("settings: %d\n%s", res.status, res.body)
	}
	tn, _ := o.db.TenantByID(ctx, o.acme.ID)
	if tn.HotdeskLogin || !tn.HotdeskLogout || tn.AutologoutAt != "18:30" || tn.AutologoutAfter.Hours() != 8 {
		t.Fatalf("tenant after settings: %+v", tn)
	}
	if page := boss.get("/tenants").body; !strings.Contains(page, "at 18:30, after 8h") {
		t.Errorf("tenant list does not show the auto-logout")
	}
	// The company PIN may not be one of the tenant's extension numbers.
	res = boss.post("/tenants/"+id(o.acme.ID), url.Values{"company_pin": {"1002"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-company_pin"`) {
		t.Errorf("company PIN equal to an extension: %d", res.status)
	}
	var out apiTenant
	token := boss.apiToken("t")
	if code := o.api(token, "PATCH", "/tenants/"+id(o.acme.ID), map[string]any{"hotdesk": map[string]any{"login": true}}, &out); code != 200 ||
		!out.HotDesk.Login || !out.HotDesk.Logout || out.HotDesk.AutoLogoutAt != "18:30" {
		t.Errorf("API partial hot-desk change: %d %+v", code, out)
	}
	if audit := boss.get("/audit?action=admin-change").body; !strings.Contains(audit, "daily auto-logout at 18:30") {
		t.Error("settings change not in the audit log")
	}
}

func TestHotDeskAPI(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	token := o.login("acme-boss").apiToken("t")
	var h apiHotdesk
	code := o.api(token, "POST", "/hotdesk", map[string]any{"extension_id": o.ada.ID, "hotdesk_id": "50017", "password": "4826"}, &h)
	if code != http.StatusCreated || h.HotdeskID != "50017" || !h.HasOwnPIN {
		t.Fatalf("create: %d %+v", code, h)
	}
	var e apiErrorBody
	betaToken := o.login("beta-boss").apiToken("t")
	if code := o.api(betaToken, "POST", "/hotdesk", map[string]any{"extension_id": o.bob.ID, "hotdesk_id": "50017"}, &e); code != http.StatusUnprocessableEntity || !strings.Contains(e.Fields["hotdesk_id"], "already in use") {
		t.Errorf("clash: %d %+v", code, e)
	}
	if code := o.api(token, "PATCH", "/hotdesk/"+idOf(o.ada), map[string]any{"dial_override": "1002@acme.example"}, &h); code != 200 || h.DialOverride != "1002@acme.example" {
		t.Errorf("patch: %d %+v", code, h)
	}
	o.hotdesk.Login(ctx, "50017", "4826", o.grace, "x")
	var seats []apiSeat
	if o.api(token, "GET", "/hotdesk/sessions", nil, &seats); len(seats) != 1 || seats[0].Seat != "1002@acme.example" {
		t.Errorf("sessions: %+v", seats)
	}
	var list []apiHotdesk
	if o.api(token, "GET", "/hotdesk", nil, &list); len(list) != 1 || list[0].SeatedAt != "1002@acme.example" || list[0].RingTarget != "1002@acme.example" {
		t.Errorf("list: %+v", list)
	}
	var out map[string]any
	if code := o.api(token, "POST", "/hotdesk/"+idOf(o.ada)+"/logout", nil, &out); code != 200 || out["logged_out"] != true {
		t.Errorf("logout: %d %v", code, out)
	}
	var page struct {
		Entries    []apiAuditEntry `json:"entries"`
		NextBefore int64           `json:"next_before"`
	}
	if o.api(token, "GET", "/audit?limit=2", nil, &page); len(page.Entries) != 2 || page.NextBefore == 0 {
		t.Fatalf("audit page 1: %+v", page)
	}
	first := page.Entries[0].ID
	o.api(token, "GET", "/audit?limit=2&before="+id(page.NextBefore), nil, &page)
	if len(page.Entries) == 0 || page.Entries[0].ID >= first {
		t.Errorf("audit page 2: %+v", page)
	}
	if code := o.api(token, "DELETE", "/hotdesk/"+idOf(o.ada), nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
}

func TestHotDeskPageUpdatesLive(t *testing.T) {
	o := newOffice(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	boss := o.login("acme-boss")
	boss.addEntry(o.ada, "50017", "4826")
	events := boss.openEvents(ctx, "hotdesk,seats")
	waitEvent(t, events, "hotdesk", "not seated")
	if _, err := o.hotdesk.Login(ctx, "50017", "4826", o.grace, "x"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, "hotdesk", "<strong>1002@acme.example</strong>")
	waitEvent(t, events, "seats", "1001@acme.example")
	boss.post("/hotdesk/"+idOf(o.ada)+"/logout", nil)
	waitEvent(t, events, "hotdesk", "not seated")
}
