package dialplan

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"deskpbx/hotdesk"
	"deskpbx/pbx"
	"deskpbx/store"
)

// office: acme.example with 1001 (hot-desk ID 5551234, PIN 4826), 1002
// and the desk phone 1003; beta.example with 2001.
func office(t *testing.T) (*store.DB, *hotdesk.Service, map[string]*store.Extension) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, d := range []string{"acme.example", "beta.example"} {
		if _, err := db.CreateTenant(ctx, d, "", false); err != nil {
			t.Fatal(err)
		}
	}
	exts := map[string]*store.Extension{}
	for _, e := range []store.NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "pw-1001-x", Name: "Ada"},
		{Domain: "acme.example", Number: "1002", Password: "pw-1002-x"},
		{Domain: "acme.example", Number: "1003", Password: "pw-1003-x"},
		{Domain: "beta.example", Number: "2001", Password: "pw-2001-x"},
	} {
		x, err := db.CreateExtension(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		exts[e.Number] = x
	}
	if _, err := db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551234", PIN: "4826"}, "test"); err != nil {
		t.Fatal(err)
	}
	return db, hotdesk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil))), exts
}

func TestEveryFeatureCodeIsAnsweredByThePBX(t *testing.T) {
	db, hd, exts := office(t)
	p := New(db, hd)
	for _, code := range []string{EchoTestCode, DTMFTestCode, HotdeskLoginCode, HotdeskLogoutCode} {
		r := p.Route(context.Background(), &pbx.CallRequest{Caller: exts["1003"], Dialled: code})
		if r.Feature == nil || r.Feature.Name != code || r.Feature.Run == nil || r.Ring != nil || r.Reject != nil {
			t.Errorf("%s: route %+v, want the feature %s", code, r, code)
		}
	}
	// Without hot desking, *072 is an ordinary (unknown) number.
	r := New(db, nil).Route(context.Background(), &pbx.CallRequest{Caller: exts["1003"], Dialled: HotdeskLoginCode})
	if r.Reject == nil || r.Reject.Code != 404 {
		t.Errorf("*072 without hot desking: route %+v, want 404", r)
	}
}

func TestCallsRingTheCalleeOrAreRefused(t *testing.T) {
	db, hd, exts := office(t)
	p := New(db, hd)
	ctx := context.Background()
	r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1001"], Dialled: "1002"})
	if r.Identity.Number != "1001" || r.Ring == nil || r.Ring.Callee.Number != "1002" || r.Ring.Target.Number != "1002" || r.Ring.NoAnswer != nil {
		t.Errorf("1001 calls 1002: %+v", r)
	}
	// Another tenant's number is unknown here.
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1001"], Dialled: "2001"}); r.Reject == nil || r.Reject.Code != 404 || r.Reject.Err != nil {
		t.Errorf("1001 calls 2001 of beta: %+v, want 404", r)
	}
}

func TestAHotDeskerCallsAsThemselvesAndIsRungAtTheSeat(t *testing.T) {
	db, hd, exts := office(t)
	p := New(db, hd)
	ctx := context.Background()
	if _, err := hd.Login(ctx, "5551234", "4826", exts["1003"], "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	if r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1003"], Dialled: "1002"}); r.Identity.Number != "1001" {
		t.Errorf("a call from the desk phone is made as %s, want 1001", r.Identity.Number)
	}
	r := p.Route(ctx, &pbx.CallRequest{Caller: exts["1002"], Dialled: "1001"})
	if r.Ring == nil || r.Ring.Callee.Number != "1001" || r.Ring.Target.Number != "1003" {
		t.Errorf("1002 calls 1001: %+v, want 1001's calls to ring 1003", r)
	}
	if got := p.RingTarget(ctx, exts["1002"]); got.Number != "1002" {
		t.Errorf("1002, not hot-desking, rings at %s", got.Number)
	}
}
