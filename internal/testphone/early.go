package testphone

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// EarlyCall is what a phone saw of a call the PBX refused after early
// media: the 183 with SDP (nil if none came), how many RTP packets had
// arrived when the final status did, and that status.
type EarlyCall struct {
	Progress   *sip.Response
	EarlyRTP   int
	FinalCode  int
	FinalError error
}

// DialEarly has p call number with media m, expecting a refusal: it
// waits for the final status, keeping the first 183 with SDP. With
// cancelOnEarly, the phone hangs up (CANCEL) once it has heard a few
// packets of early media. An answered call fails t.
func DialEarly(t testing.TB, p *Phone, number string, m *Media, cancelOnEarly bool) EarlyCall {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := p.DUA.WriteInvite(ctx, p.InviteRequest(number, "", SDP(m.Port(), "sendrecv")))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var got EarlyCall
	heard := make(chan struct{})
	waitCtx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	if cancelOnEarly {
		go func() {
			select {
			case <-heard:
				for len(m.Received()) < 5 && ctx.Err() == nil {
					time.Sleep(10 * time.Millisecond)
				}
				hangUp()
			case <-ctx.Done():
			}
		}()
	}
	err = d.WaitAnswer(waitCtx, sipgo.AnswerOptions{Username: p.User, Password: p.Password,
		OnResponse: func(res *sip.Response) error {
			if res.StatusCode == 183 && len(res.Body()) > 0 && got.Progress == nil {
				got.Progress = res
				close(heard)
			}
			return nil
		}})
	got.EarlyRTP = len(m.Received())
	if err == nil {
		d.Ack(ctx)
		d.Bye(ctx)
		t.Fatalf("%s: the call to %s was answered, want it refused after early media", p.User, number)
	}
	got.FinalCode, got.FinalError = StatusOf(err), err
	if got.FinalCode == 0 && d.InviteResponse != nil {
		got.FinalCode = d.InviteResponse.StatusCode // a cancelled INVITE's 487
	}
	return got
}

// DialRefused has p call number expecting a refusal that explains
// itself: a 183 with SDP, at least minRTP packets of audible audio (the
// spoken reason) before the final status, and the final status code.
func DialRefused(t testing.TB, p *Phone, number string, code, minRTP int) EarlyCall {
	t.Helper()
	m := NewMedia(t)
	got := DialEarly(t, p, number, m, false)
	if got.Progress == nil || got.FinalCode != code {
		t.Fatalf("%s dials %s: 183 with SDP %v, final %d (%v); want a 183 with SDP, then %d",
			p.User, number, got.Progress != nil, got.FinalCode, got.FinalError, code)
	}
	if rms, _ := m.AudioRMS(); got.EarlyRTP < minRTP || rms < 0.01 {
		t.Fatalf("%s dials %s: %d packets at RMS %.4f before the %d; want the spoken reason",
			p.User, number, got.EarlyRTP, rms, code)
	}
	return got
}
