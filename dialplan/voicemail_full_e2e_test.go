package dialplan_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"deskpbx/internal/rtppcap"
	"deskpbx/internal/testphone"
	"deskpbx/sounds"
	"deskpbx/voicemail"
)

// heardPrompt says whether the µ-law audio the phone received holds a
// stretch of the named prompt, byte for byte as deskpbx sends it.
func heardPrompt(m *testphone.Media, name string) bool {
	var all []byte
	for _, p := range m.Received() {
		if p.PayloadType == 0 {
			all = append(all, p.Payload...)
		}
	}
	prompt := sounds.Ulaw(name)
	return bytes.Contains(all, prompt[len(prompt)/4:len(prompt)/2])
}

// oneMessageMailboxes is the setting for the full-mailbox tests: it is
// set before the PBX starts, as serve's -voicemail-limit is; set on the
// running service it was a data race with the calls reading it.
func oneMessageMailboxes(s *voicemail.Service) { s.Limit = 1 }

// fullMailboxCall has Grace call Bob, whose unregistered phone sends the
// call to his mailbox, which holds one message at most.
func fullMailboxCall(t *testing.T, o *vmOffice) (*testphone.Media, func()) {
	t.Helper()
	grace := o.phone("1002")
	grace.Register()
	m := testphone.NewMedia(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	call, err := grace.DialFeature(ctx, "1004", m)
	if err != nil {
		t.Fatalf("Grace calls Bob: %v", err)
	}
	m.Answered(t, call.InviteResponse.Body())
	// The dialog's context ends with deskpbx's BYE.
	return m, func() {
		defer cancel()
		select {
		case <-call.Context().Done():
		case <-ctx.Done():
			t.Fatal("deskpbx did not hang up on Grace")
		}
	}
}

// Bob's mailbox is full: a caller hears so, no beep, and is hung up on;
// nothing is recorded.
func TestAFullMailboxSaysSoAndTakesNothing(t *testing.T) {
	o := newVMOffice(t, oneMessageMailboxes)
	bob := o.ext("1004")
	if _, err := o.vm.Deposit(context.Background(), bob, voicemail.Caller{Number: "1003"}, sine(messageTone, 1500)); err != nil {
		t.Fatal(err)
	}
	m, hungUp := fullMailboxCall(t, o)
	hungUp()
	if !heardPrompt(m, sounds.VMFull) {
		t.Error("the caller did not hear that the mailbox is full")
	}
	if _, run := dominated(received(m), 1000); run >= 8 {
		t.Error("a full mailbox beeped for a message")
	}
	if msgs, _ := o.db.VoicemailMessages(context.Background(), bob.ID); len(msgs) != 1 {
		t.Errorf("Bob's full mailbox holds %d messages, want the 1 it had", len(msgs))
	}
}

// Bob's mailbox fills up (another caller) while Grace speaks: when she
// ends with #, she hears that the mailbox is full, not that her message
// was saved, and it holds only the other caller's.
func TestAMailboxThatFillsDuringTheMessageSaysSo(t *testing.T) {
	o := newVMOffice(t, oneMessageMailboxes)
	bob := o.ext("1004")
	m, hungUp := fullMailboxCall(t, o)
	poll(t, "the greeting and the beep", func() bool { _, run := dominated(received(m), 1000); return run >= 8 })
	if _, err := o.vm.Deposit(context.Background(), bob, voicemail.Caller{Number: "1003"}, sine(messageTone, 1500)); err != nil {
		t.Fatal(err)
	}
	keys, err := rtppcap.RFC4733Digits("#", 101, rtppcap.WithAudio(rtppcap.PCMU), rtppcap.WithLeadIn(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m.Play(keys)
	hungUp()
	if !heardPrompt(m, sounds.VMFull) {
		t.Error("the caller did not hear that the mailbox is full")
	}
	if heardPrompt(m, sounds.VMMessageSaved) {
		t.Error("the caller was told a message nobody kept was saved")
	}
	if msgs, _ := o.db.VoicemailMessages(context.Background(), bob.ID); len(msgs) != 1 || msgs[0].CallerNumber != "1003" {
		t.Errorf("Bob's mailbox holds %d messages, want only the other caller's", len(msgs))
	}
}
