package dialplan_test

import (
	"context"
	"io"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"

	"deskpbx/dialplan"
	"deskpbx/hotdesk"
	"deskpbx/internal/rtppcap"
	"deskpbx/internal/testphone"
	"deskpbx/pbx"
	"deskpbx/store"
	"deskpbx/voicemail"
)

// vmOffice is deskpbx as serve wires it, voicemail included, on a real
// SQLite file and data directory: acme.example with 1001 (Ada, voicemail
// PIN 4826, hot-desk ID 5551234), 1002 (Grace), the desk phone 1003 and
// 1004 (Bob), whose phone is never registered.
type vmOffice struct {
	t   *testing.T
	db  *store.DB
	dir string
	vm  *voicemail.Service
	srv *pbx.Server
	set []func(*voicemail.Service) // settings applied before the PBX starts, as serve's flags are
}

func testLog() *slog.Logger {
	if os.Getenv("DESKPBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newVMOffice(t *testing.T, settings ...func(*voicemail.Service)) *vmOffice {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "deskpbx.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		t.Fatal(err)
	}
	for _, e := range []store.NewExtension{
		{Domain: "acme.example", Number: "1001", Password: "pw-1001-x", PIN: "4826", Name: "Ada Lovelace"},
		{Domain: "acme.example", Number: "1002", Password: "pw-1002-x", Name: "Grace Hopper"},
		{Domain: "acme.example", Number: "1003", Password: "pw-1003-x"},
		{Domain: "acme.example", Number: "1004", Password: "pw-1004-x", Name: "Bob"},
	} {
		if _, err := db.CreateExtension(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.CreateHotdeskEntry(ctx, store.NewHotdeskEntry{Domain: "acme.example", Number: "1001", HotdeskID: "5551234"}, "test"); err != nil {
		t.Fatal(err)
	}
	o := &vmOffice{t: t, db: db, dir: filepath.Join(dir, "deskpbx.db.data"), set: settings}
	o.start()
	t.Cleanup(func() {
		o.stop()
		db.Close()
	})
	return o
}

// start starts (or restarts) the PBX: a new voicemail service sweeps the
// data directory as a start of the binary does.
func (o *vmOffice) start() {
	o.t.Helper()
	vm, err := voicemail.New(context.Background(), o.db, o.dir, testLog())
	if err != nil {
		o.t.Fatal(err)
	}
	for _, f := range o.set {
		f(vm)
	}
	srv, err := pbx.New(pbx.Config{DB: o.db, Log: testLog(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{32000, 32999},
		RingTimeout: 1500 * time.Millisecond})
	if err != nil {
		o.t.Fatal(err)
	}
	srv.SetDialPlan(dialplan.New(o.db, hotdesk.New(o.db, testLog())).WithVoicemail(vm))
	if err := srv.Start(context.Background()); err != nil {
		o.t.Fatal(err)
	}
	o.vm, o.srv = vm, srv
}

func (o *vmOffice) stop() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o.srv.Shutdown(ctx)
	o.srv = nil
}

func (o *vmOffice) phone(user string) *testphone.Phone {
	return testphone.New(o.t, o.srv.SIPAddr(), user, "acme.example", "pw-"+user+"-x")
}

func (o *vmOffice) ext(number string) *store.Extension {
	e, err := o.db.LookupExtension(context.Background(), "acme.example", number)
	if err != nil {
		o.t.Fatal(err)
	}
	return e
}

// messageTone is the voice of every test message: a 600 Hz sine, far
// from the 1 kHz beep and from every DTMF frequency.
const messageTone = 600

// messagePCM is what callers say: 1 s of tone, the keys 2 5 8 0 as
// in-band DTMF (a phone number read out on the keypad), 0.5 s of tone.
func messagePCM() []int16 {
	var pcm []int16
	pcm = append(pcm, sine(messageTone, 1000)...)
	for _, k := range [][2]float64{{697, 1336}, {770, 1336}, {852, 1336}, {941, 1336}} {
		tone := make([]int16, 800)
		for i := range tone {
			t := float64(i) / 8000
			tone[i] = int16(6000 * (math.Sin(2*math.Pi*k[0]*t) + math.Sin(2*math.Pi*k[1]*t)))
		}
		pcm = append(append(pcm, tone...), make([]int16, 800)...)
	}
	return append(pcm, sine(messageTone, 500)...)
}

func sine(f float64, ms int) []int16 {
	out := make([]int16, ms*8)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*f*float64(i)/8000))
	}
	return out
}

// packets cuts pcm into 20 ms µ-law RTP packets on a real-time schedule.
func packets(pcm []int16) []rtppcap.Packet {
	var out []rtppcap.Packet
	for i := 0; i*160 < len(pcm); i++ {
		frame := pcm[i*160 : min(len(pcm), (i+1)*160)]
		payload := make([]byte, len(frame))
		for j, s := range frame {
			payload[j] = g711.EncodeUlawFrame(s)
		}
		out = append(out, rtppcap.Packet{At: time.Duration(i) * 20 * time.Millisecond, Packet: rtp.Packet{
			Header: rtp.Header{Version: 2, PayloadType: 0, Marker: i == 0, SequenceNumber: uint16(1000 + i),
				Timestamp: uint32(8000 + 160*i), SSRC: 0x5eed}, Payload: payload}})
	}
	return out
}

// received decodes the µ-law audio the phone has received so far.
func received(m *testphone.Media) []int16 {
	var pcm []int16
	for _, p := range m.Received() {
		if p.PayloadType != 0 {
			continue
		}
		for _, b := range p.Payload {
			pcm = append(pcm, g711.DecodeUlawFrame(b))
		}
	}
	return pcm
}

// dominated counts the 20 ms frames of pcm where f carries most of the
// energy: a pure tone, not speech that happens to contain f.
func dominated(pcm []int16, f float64) (frames, longestRun int) {
	run := 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		fr := pcm[i : i+160]
		var total float64
		for _, s := range fr {
			total += float64(s) * float64(s)
		}
		coef := 2 * math.Cos(2*math.Pi*f/8000)
		var s1, s2 float64
		for _, s := range fr {
			s0 := float64(s) + coef*s1 - s2
			s2, s1 = s1, s0
		}
		power := (s1*s1 + s2*s2 - coef*s1*s2) * 2 / 160 // ≈ the tone's share of total
		if total > 160*300*300 && power > 0.7*total {
			frames++
			run++
			longestRun = max(longestRun, run)
		} else {
			run = 0
		}
	}
	return frames, longestRun
}

// dtmfIn is the keys multimon-ng (a real DTMF decoder) hears in pcm.
func dtmfIn(t *testing.T, pcm []int16) string {
	t.Helper()
	bin, err := exec.LookPath("multimon-ng")
	if err != nil {
		t.Skip("multimon-ng not installed")
	}
	path := filepath.Join(t.TempDir(), "heard.wav")
	if err := os.WriteFile(path, wav(pcm), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-q", "-a", "DTMF", "-t", "wav", path).CombinedOutput()
	if err != nil {
		t.Fatalf("multimon-ng: %v\n%s", err, out)
	}
	var keys strings.Builder
	for _, l := range strings.Split(string(out), "\n") {
		if k, ok := strings.CutPrefix(strings.TrimSpace(l), "DTMF: "); ok {
			keys.WriteString(k)
		}
	}
	return keys.String()
}

// wav is pcm as a WAV file, written here independently of voicemail's
// own writer so a bug there cannot hide itself.
func wav(pcm []int16) []byte {
	le32 := func(v int) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }
	b := append([]byte("RIFF"), le32(36+2*len(pcm))...)
	b = append(b, "WAVEfmt "...)
	b = append(b, le32(16)...)
	b = append(b, 1, 0, 1, 0)
	b = append(b, le32(8000)...)
	b = append(b, le32(16000)...)
	b = append(b, 2, 0, 16, 0)
	b = append(b, "data"...)
	b = append(b, le32(2*len(pcm))...)
	for _, s := range pcm {
		b = append(b, byte(s), byte(uint16(s)>>8))
	}
	return b
}

// poll waits for cond, generously: a loaded box is slow, not wrong.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// leaveMessage calls number from caller; once deskpbx answers for the
// mailbox and beeps, it says messagePCM and hangs up, the usual way to
// end a message. It waits until the message is listed in box.
func (o *vmOffice) leaveMessage(caller *testphone.Phone, number string, box *store.Extension) *store.VoicemailMessage {
	t := o.t
	t.Helper()
	before, _ := o.db.VoicemailMessages(context.Background(), box.ID)
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := caller.DialFeature(ctx, number, m)
	if err != nil {
		t.Fatalf("%s calls %s: %v", caller.User, number, err)
	}
	m.Answered(t, call.InviteResponse.Body())
	poll(t, "the greeting and the beep", func() bool { _, run := dominated(received(m), 1000); return run >= 8 })
	m.Play(packets(messagePCM()))
	if err := call.Bye(ctx); err != nil {
		t.Fatalf("hang up after the message: %v", err)
	}
	var msgs []*store.VoicemailMessage
	poll(t, "the message to be listed", func() bool {
		msgs, _ = o.db.VoicemailMessages(context.Background(), box.ID)
		return len(msgs) > len(before)
	})
	return msgs[len(msgs)-1]
}

// checkAudio says whether a stored message holds what messagePCM said.
func (o *vmOffice) checkAudio(msg *store.VoicemailMessage) {
	t := o.t
	t.Helper()
	pcm, err := o.vm.Audio(msg.File)
	if err != nil {
		t.Fatalf("message %d audio: %v", msg.ID, err)
	}
	if frames, _ := dominated(pcm, messageTone); frames < 60 {
		t.Fatalf("message %d has %d frames of the caller's 600 Hz tone, want about 75", msg.ID, frames)
	}
	if keys := dtmfIn(t, pcm); !strings.Contains(keys, "2580") {
		t.Fatalf("message %d: DTMF decoded from the file %q, want the 2580 keyed in", msg.ID, keys)
	}
}

func TestUnansweredBusyAndUnregisteredCallsLeaveMessagesOfRealAudio(t *testing.T) {
	o := newVMOffice(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()

	ada.SetAnswer(testphone.RingForever)
	msg := o.leaveMessage(grace, "1001", o.ext("1001"))
	if msg.CallerNumber != "1002" || msg.CallerName != "Grace Hopper" || msg.Folder != store.FolderNew {
		t.Fatalf("message after no answer: %+v, want new, from Grace Hopper <1002>", msg)
	}
	o.checkAudio(msg)

	ada.SetAnswer(486)
	o.checkAudio(o.leaveMessage(grace, "1001", o.ext("1001")))

	// Bob's phone is not registered: straight to his mailbox.
	o.checkAudio(o.leaveMessage(grace, "1004", o.ext("1004")))

	if n, saved, _ := o.vm.Counts(context.Background(), o.ext("1001")); n != 2 || saved != 0 {
		t.Fatalf("Ada's mailbox counts %d new %d saved, want 2 new", n, saved)
	}

	// A restart keeps them, audio and all.
	o.stop()
	o.start()
	msgs, _ := o.db.VoicemailMessages(context.Background(), o.ext("1001").ID)
	if len(msgs) != 2 {
		t.Fatalf("%d messages for Ada after a restart, want 2", len(msgs))
	}
	o.checkAudio(msgs[0])
}

func TestStar97AtAHotDeskSeatPlaysThePersonsMessage(t *testing.T) {
	o := newVMOffice(t)
	grace, desk := o.phone("1002"), o.phone("1003")
	grace.Register()
	desk.Register()
	desk.KeyIn(t, "*072", "5551234#4826#") // Ada sits at the desk phone

	desk.SetAnswer(testphone.RingForever)
	msg := o.leaveMessage(grace, "1001", o.ext("1001"))
	if seat, _ := o.db.VoicemailMessages(context.Background(), o.ext("1003").ID); len(seat) != 0 {
		t.Fatal("a call to a hot-desked person left a message in the seat's mailbox")
	}
	o.checkAudio(msg)

	// *97 at the seat opens Ada's mailbox (she is who the phone is now):
	// PIN, then 1 to play.
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := desk.DialFeature(ctx, dialplan.VoicemailCode, m)
	if err != nil {
		t.Fatalf("*97: %v", err)
	}
	m.Answered(t, call.InviteResponse.Body())
	keys, err := rtppcap.RFC4733Digits("4826#1", 101, rtppcap.WithAudio(rtppcap.PCMU))
	if err != nil {
		t.Fatal(err)
	}
	m.Play(keys)
	// All of the stored message's tone, give or take the frame at each
	// end that the envelope's length shifts across a 20 ms boundary. The
	// caller starts after 160 ms of the beep and the recording after the
	// beep, so a message keeps only about 70 of the 75 frames said: a
	// fixed 70 here failed one run in three (69 heard).
	stored, err := o.vm.Audio(msg.File)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dominated(stored, messageTone)
	poll(t, "the message played back", func() bool { frames, _ := dominated(received(m), messageTone); return frames >= want-2 })
	call.Bye(ctx)
	heard := received(m)
	if got := dtmfIn(t, heard); !strings.Contains(got, "2580") {
		t.Fatalf("DTMF decoded from what *97 played %q, want the 2580 of the message", got)
	}
	poll(t, "the heard message to move to saved", func() bool {
		n, saved, _ := o.vm.Counts(context.Background(), o.ext("1001"))
		return n == 0 && saved == 1
	})
}

func TestStar98AsksForTheMailboxAndDeletes(t *testing.T) {
	o := newVMOffice(t)
	grace := o.phone("1002")
	grace.Register()
	ada := o.ext("1001")
	msg := o.leaveMessage(grace, "1004", o.ext("1004")) // someone else's, which must stay
	if _, err := o.vm.Deposit(context.Background(), ada, voicemail.Caller{Number: "1002"}, messagePCM()); err != nil {
		t.Fatal(err)
	}
	// Grace opens Ada's mailbox from her own phone: a wrong PIN first,
	// then the right one; 1 plays, 7 deletes, # leaves. Keys typed ahead
	// skip the prompts, as on any voicemail system.
	grace.KeyIn(t, dialplan.VoicemailAskCode, "1001#1397#1001#4826#17#")
	if msgs, _ := o.vm.Messages(context.Background(), ada); len(msgs) != 0 {
		t.Fatalf("Ada's mailbox holds %d messages after 7, want none", len(msgs))
	}
	if files, _ := os.ReadDir(o.dir); len(files) != 1 || files[0].Name() != msg.File {
		t.Fatalf("data directory after the delete: %v, want only Bob's message", files)
	}
	audit, _ := o.db.HotdeskAudit(context.Background(), 0, 50)
	var outcomes []string
	for _, a := range audit {
		if a.Action == "voicemail-login" {
			outcomes = append(outcomes, a.Outcome+" "+a.Person+" from "+a.Seat)
		}
		if strings.Contains(a.Detail+a.IDTried, "1397") || strings.Contains(a.Detail+a.IDTried, "4826") {
			t.Fatalf("the audit holds a PIN: %+v", a)
		}
	}
	want := []string{"ok 1001@acme.example from 1002@acme.example", "wrong-pin 1001@acme.example from 1002@acme.example"}
	if strings.Join(outcomes, "; ") != strings.Join(want, "; ") {
		t.Fatalf("audited logins (newest first) %q, want %q", outcomes, want)
	}
}

func TestOwnerChangesPINAndWeakOnesAreRefused(t *testing.T) {
	o := newVMOffice(t)
	ada := o.phone("1001")
	ada.Register()
	// 0 3: change PIN. 1111 is refused as guessable; 5071 is taken.
	ada.KeyIn(t, dialplan.VoicemailCode, "4826#031111#1111#035071#5071##")
	e := o.ext("1001")
	if !store.CheckPIN(e.PINHash, "5071") {
		t.Fatal("Ada's voicemail PIN is not the 5071 she set")
	}
	if store.CheckPIN(e.PINHash, "1111") {
		t.Fatal("a guessable PIN was accepted")
	}
}

func TestNoAnswerRouteIsThePersonsMailboxWithTheirTimeout(t *testing.T) {
	o := newVMOffice(t)
	ctx := context.Background()
	ada, bob, desk := o.ext("1001"), o.ext("1004"), o.ext("1003")
	hd := hotdesk.New(o.db, testLog())
	if _, err := hd.Login(ctx, "5551234", "4826", desk, "test"); err != nil {
		t.Fatal(err)
	}
	after, off := 12*time.Second, false
	o.db.SetMailbox(ctx, ada.ID, store.MailboxChange{NoAnswer: &after})
	o.db.SetMailbox(ctx, bob.ID, store.MailboxChange{Enabled: &off})
	plan := dialplan.New(o.db, hd).WithVoicemail(o.vm)

	r := plan.Route(ctx, &pbx.CallRequest{Caller: o.ext("1002"), Dialled: "1001"})
	if r.Ring == nil || r.Ring.Target.Number != "1003" || r.Ring.NoAnswer == nil || r.Ring.NoAnswer.Name != "voicemail 1001" || r.Ring.Timeout != after {
		t.Fatalf("a call to Ada, seated at 1003: %+v, want the seat to ring for 12 s, then Ada's mailbox", r.Ring)
	}
	if r := plan.Route(ctx, &pbx.CallRequest{Caller: o.ext("1002"), Dialled: "1004"}); r.Ring == nil || r.Ring.NoAnswer != nil {
		t.Fatalf("Bob switched voicemail off, yet his calls go to it: %+v", r.Ring)
	}
	if r := dialplan.New(o.db, hd).Route(ctx, &pbx.CallRequest{Caller: o.ext("1002"), Dialled: "1001"}); r.Ring.NoAnswer != nil {
		t.Fatal("an office without voicemail sends calls to a mailbox")
	}
	for _, code := range []string{dialplan.VoicemailCode, dialplan.VoicemailAskCode} {
		if r := plan.Route(ctx, &pbx.CallRequest{Caller: desk, Dialled: code}); r.Feature == nil {
			t.Errorf("%s is not a feature: %+v", code, r)
		}
	}
}

func TestAGreetingRecordedAtThePhoneIsWhatCallersHear(t *testing.T) {
	o := newVMOffice(t)
	ada, grace := o.phone("1001"), o.phone("1002")
	ada.Register()
	grace.Register()

	// Ada: *97, PIN, 0 options, 1 record greeting; after the beep she
	// says her greeting (a 450 Hz tone here) and presses #.
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	call, err := ada.DialFeature(ctx, dialplan.VoicemailCode, m)
	if err != nil {
		t.Fatalf("*97: %v", err)
	}
	m.Answered(t, call.InviteResponse.Body())
	keys, _ := rtppcap.RFC4733Digits("4826#01", 101, rtppcap.WithAudio(rtppcap.PCMU))
	m.Play(keys)
	poll(t, "the beep before the greeting is recorded", func() bool { _, run := dominated(received(m), 1000); return run >= 8 })
	m.Play(packets(sine(450, 1500)))
	pound, _ := rtppcap.RFC4733Digits("#", 101, rtppcap.WithSeq(3000), rtppcap.WithTimestamp(900000))
	m.Play(pound)
	poll(t, "the greeting to be stored", func() bool {
		mb, _ := o.db.Mailbox(context.Background(), o.ext("1001").ID)
		return mb.GreetingFile != ""
	})
	call.Bye(ctx)

	ada.SetAnswer(486)
	caller := testphone.NewMedia(t)
	call, err = grace.DialFeature(ctx, "1001", caller)
	if err != nil {
		t.Fatalf("Grace calls Ada: %v", err)
	}
	caller.Answered(t, call.InviteResponse.Body())
	poll(t, "the beep after the greeting", func() bool { _, run := dominated(received(caller), 1000); return run >= 8 })
	call.Bye(ctx)
	if frames, _ := dominated(received(caller), 450); frames < 60 {
		t.Fatalf("the caller heard %d frames of Ada's 450 Hz greeting, want about 75", frames)
	}
}
