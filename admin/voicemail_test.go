package admin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"math"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"deskpbx/store"
	"deskpbx/voicemail"
)

// vmOffice is the test office with the voicemail service wired into the
// page as `deskpbx serve` does, counting the changes message lights hear.
type vmOffice struct {
	*office
	vm      *voicemail.Service
	changes atomic.Int32
}

func newVoicemailOffice(t *testing.T) *vmOffice {
	t.Helper()
	v := &vmOffice{}
	v.office = newOffice(t, func(c *Config) {
		vm, err := voicemail.New(context.Background(), c.DB, filepath.Join(t.TempDir(), "vm"), testLogger())
		if err != nil {
			t.Fatal(err)
		}
		vm.OnChange = func(*store.Extension) { v.changes.Add(1) }
		v.vm, c.Voicemail = vm, vm
	})
	return v
}

func sine(rate, secs float64) []int16 {
	out := make([]int16, int(rate*secs))
	for i := range out {
		out[i] = int16(7000 * math.Sin(2*math.Pi*440*float64(i)/rate))
	}
	return out
}

func (v *vmOffice) leave(box *store.Extension, from string, secs float64) *store.VoicemailMessage {
	v.t.Helper()
	m, err := v.vm.Deposit(context.Background(), box, voicemail.Caller{Number: from}, sine(8000, secs))
	if err != nil {
		v.t.Fatal(err)
	}
	return m
}

// wavFile is a WAV of pcm with the given format tag, channels, rate and
// bits per sample (the samples are written as 16-bit whatever bits says,
// enough for a header check).
func wavFile(format, channels uint16, rate uint32, bits uint16, data []byte) []byte {
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + len(data)))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(format)
	w(channels)
	w(rate)
	w(rate * uint32(channels) * uint32(bits) / 8)
	w(channels * bits / 8)
	w(bits)
	b.WriteString("data")
	w(uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func pcmBytes(pcm []int16) []byte {
	out := make([]byte, 2*len(pcm))
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(out[2*i:], uint16(s))
	}
	return out
}

// upload posts file as a multipart form, with the session's CSRF token
// unless csrf is false.
func (b *browser) upload(path string, file []byte, csrf bool) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if csrf {
		mw.WriteField("csrf", b.csrf)
	}
	fw, _ := mw.CreateFormFile("file", "greeting.wav")
	fw.Write(file)
	mw.Close()
	req, _ := http.NewRequest("POST", b.o.http.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func (v *vmOffice) audited(outcome, detail string) bool {
	v.t.Helper()
	entries, _, err := v.db.AuditLog(context.Background(), store.AuditFilter{Text: detail}, 50)
	if err != nil {
		v.t.Fatal(err)
	}
	for _, e := range entries {
		if (e.Outcome == outcome || e.Action == outcome) && strings.HasPrefix(e.Actor, "admin:") {
			return true
		}
	}
	return false
}

// acme's admin opens Ada's mailbox: the messages are listed, the audio
// is served (ranges too) and downloads; marking heard and deleting go
// through the voicemail service, so the message light hears of them,
// and the delete is audited and removes the file.
func TestVoicemailPageListsPlaysMarksAndDeletes(t *testing.T) {
	v := newVoicemailOffice(t)
	m1 := v.leave(v.ada, "5551", 2)
	m2 := v.leave(v.ada, "5552", 1.5)
	b := v.login("acme-boss")
	base := "/extensions/" + id(v.ada.ID) + "/voicemail"

	res := b.get("/extensions/" + id(v.ada.ID))
	if !strings.Contains(res.body, `href="`+base+`"`) {
		t.Errorf("the extension page does not link its voicemail")
	}
	res = b.get(base)
	if res.status != 200 || !strings.Contains(res.body, "5551") || !strings.Contains(res.body, "5552") ||
		!strings.Contains(res.body, `<audio controls`) || strings.Count(res.body, "<strong>new</strong>") != 2 {
		t.Fatalf("mailbox page: %d\n%s", res.status, res.body)
	}
	want, err := os.ReadFile(filepath.Join(v.vm.Dir, m1.File))
	if err != nil {
		t.Fatal(err)
	}
	res = b.get(base + "/messages/" + id(m1.ID) + "/audio")
	if res.status != 200 || res.header.Get("Content-Type") != "audio/wav" || res.body != string(want) {
		t.Fatalf("audio: %d %q, %d bytes; want the %d bytes of the file", res.status, res.header.Get("Content-Type"), len(res.body), len(want))
	}
	req, _ := http.NewRequest("GET", v.http.URL+base+"/messages/"+id(m1.ID)+"/audio", nil)
	req.Header.Set("Range", "bytes=0-43")
	if res := b.do(req); res.status != http.StatusPartialContent || res.body != string(want[:44]) {
		t.Errorf("a range of the audio: %d, %d bytes; want 206 and the header", res.status, len(res.body))
	}
	res = b.get(base + "/messages/" + id(m1.ID) + "/audio?download=1")
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".wav") {
		t.Errorf("download's Content-Disposition %q", cd)
	}

	before := v.changes.Load()
	if res := b.post(base+"/messages/"+id(m1.ID)+"/heard", nil); res.status != http.StatusSeeOther {
		t.Fatalf("mark heard: %d %s", res.status, res.body)
	}
	if n, saved, _ := v.vm.Counts(context.Background(), v.ada); n != 1 || saved != 1 {
		t.Errorf("after marking heard: %d new, %d saved; want 1 and 1", n, saved)
	}
	if v.changes.Load() != before+1 {
		t.Errorf("marking heard told the lights %d times, want once", v.changes.Load()-before)
	}
	if res := b.post(base+"/messages/"+id(m2.ID)+"/delete", nil); res.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	if ms, _ := v.vm.Messages(context.Background(), v.ada); len(ms) != 1 || ms[0].ID != m1.ID {
		t.Errorf("after the delete the mailbox holds %v", ms)
	}
	if _, err := os.Stat(filepath.Join(v.vm.Dir, m2.File)); !os.IsNotExist(err) {
		t.Errorf("the deleted message's file: %v, want gone", err)
	}
	if v.changes.Load() != before+2 {
		t.Errorf("the delete did not tell the lights")
	}
	if !v.audited("voicemail deleted", "1001@acme.example: message "+id(m2.ID)) {
		t.Errorf("the delete is not in the audit log")
	}
	if res := b.post(base+"/messages/"+id(m2.ID)+"/delete", nil); res.status != 404 {
		t.Errorf("deleting it again: %d, want 404", res.status)
	}
}

// A tenant admin sees nothing of another tenant's mailboxes, not even
// through its own mailbox's URL with another's message ID; and a post
// without the session's CSRF token changes nothing.
func TestVoicemailOfAnotherTenantIsNotFound(t *testing.T) {
	v := newVoicemailOffice(t)
	bobs := v.leave(v.bob, "777", 2)
	v.leave(v.ada, "5551", 2)
	b := v.login("acme-boss")
	bob := "/extensions/" + id(v.bob.ID) + "/voicemail"
	ada := "/extensions/" + id(v.ada.ID) + "/voicemail"
	for _, p := range []string{bob, bob + "/messages/" + id(bobs.ID) + "/audio", ada + "/messages/" + id(bobs.ID) + "/audio", bob + "/greeting/audio"} {
		if res := b.get(p); res.status != 404 || strings.Contains(res.body, "777") {
			t.Errorf("GET %s: %d, want 404", p, res.status)
		}
	}
	for _, p := range []string{bob + "/messages/" + id(bobs.ID) + "/delete", ada + "/messages/" + id(bobs.ID) + "/delete",
		ada + "/messages/" + id(bobs.ID) + "/heard", bob + "/pin", bob} {
		if res := b.post(p, url.Values{"pin": {"4826"}, "enabled": {""}}); res.status != 404 {
			t.Errorf("POST %s: %d, want 404", p, res.status)
		}
	}
	if res := b.upload(bob+"/greeting", wavFile(1, 1, 8000, 16, pcmBytes(sine(8000, 1))), true); res.status != 404 {
		t.Errorf("upload to beta's greeting: %d, want 404", res.status)
	}
	token := b.apiToken("vm")
	for _, c := range []struct{ method, path string }{{"GET", "/extensions/" + id(v.bob.ID) + "/voicemail"},
		{"DELETE", "/extensions/" + id(v.bob.ID) + "/voicemail/messages/" + id(bobs.ID)},
		{"DELETE", "/extensions/" + id(v.ada.ID) + "/voicemail/messages/" + id(bobs.ID)},
		{"PATCH", "/extensions/" + id(v.bob.ID) + "/voicemail"}} {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"enabled": false}
		}
		if st := v.api(token, c.method, c.path, body, nil); st != 404 {
			t.Errorf("API %s %s: %d, want 404", c.method, c.path, st)
		}
	}
	if ms, _ := v.vm.Messages(context.Background(), v.bob); len(ms) != 1 {
		t.Errorf("beta's mailbox holds %d messages after acme's attempts, want 1", len(ms))
	}
	if mb, _ := v.db.Mailbox(context.Background(), v.bob.ID); !mb.Enabled || mb.GreetingFile != "" {
		t.Errorf("beta's mailbox changed: %+v", mb)
	}
	if res := b.postRaw(ada+"/messages/1/delete", url.Values{}); res.status != http.StatusForbidden {
		t.Errorf("a delete without the CSRF token: %d, want 403", res.status)
	}
	if res := b.upload(ada+"/greeting", wavFile(1, 1, 8000, 16, pcmBytes(sine(8000, 1))), false); res.status != http.StatusForbidden {
		t.Errorf("an upload without the CSRF token: %d, want 403", res.status)
	}
	if res := v.login("root").get(bob); res.status != 200 || !strings.Contains(res.body, "777") {
		t.Errorf("the system admin cannot open beta's mailbox: %d", res.status)
	}
}

// Settings and the PIN change on the page, audited; bad input is
// answered on the form.
func TestVoicemailSettingsAndPINOnThePage(t *testing.T) {
	v := newVoicemailOffice(t)
	b := v.login("acme-boss")
	base := "/extensions/" + id(v.ada.ID) + "/voicemail"
	b.get(base)
	res := b.post(base, url.Values{"no_answer": {"20"}, "email": {"ada@acme.example"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", res.status, res.body)
	}
	mb, _ := v.db.Mailbox(context.Background(), v.ada.ID)
	if mb.Enabled || mb.NoAnswer.Seconds() != 20 || mb.Email != "ada@acme.example" {
		t.Errorf("settings saved as %+v", mb)
	}
	if !v.audited("voicemail settings changed", "1001@acme.example: enabled") {
		t.Errorf("the settings change is not audited")
	}
	res = b.post(base, url.Values{"enabled": {"on"}, "email": {"not an address"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "is not valid") || !strings.Contains(res.body, "not an address") {
		t.Errorf("a bad address: %d\n%s", res.status, res.body)
	}
	res = b.post(base, url.Values{"enabled": {"on"}, "no_answer": {"2"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "between 5 s and 5 min") {
		t.Errorf("a 2 s timeout: %d", res.status)
	}
	if mb2, _ := v.db.Mailbox(context.Background(), v.ada.ID); *mb2 != *mb {
		t.Errorf("refused settings changed the mailbox: %+v", mb2)
	}
	if res := b.post(base+"/pin", url.Values{"pin": {"1234"}}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("a guessable PIN: %d", res.status)
	}
	if res := b.post(base+"/pin", url.Values{"pin": {"4826"}}); res.status != http.StatusSeeOther {
		t.Fatalf("PIN: %d %s", res.status, res.body)
	}
	e, _ := v.db.ExtensionByID(context.Background(), v.ada.ID)
	if !store.CheckPIN(e.PINHash, "4826") {
		t.Errorf("the new PIN does not open the mailbox")
	}
	if !v.audited("voicemail-pin", "voicemail PIN changed") {
		t.Errorf("the PIN change is not audited")
	}
}

// Greetings: a 16 kHz upload is converted to our 8 kHz, G.711 decoded;
// stereo, 44.1 kHz and non-WAV files are refused with what to upload;
// reset goes back to the spoken default.
func TestVoicemailGreetingUploadConvertsOrRefuses(t *testing.T) {
	v := newVoicemailOffice(t)
	b := v.login("acme-boss")
	base := "/extensions/" + id(v.ada.ID) + "/voicemail"
	b.get(base)
	if res := b.upload(base+"/greeting", wavFile(1, 1, 16000, 16, pcmBytes(sine(16000, 2))), true); res.status != http.StatusSeeOther {
		t.Fatalf("16 kHz upload: %d %s", res.status, res.body)
	}
	mb, _ := v.db.Mailbox(context.Background(), v.ada.ID)
	pcm, err := v.vm.Audio(mb.GreetingFile)
	if err != nil || len(pcm) != 16000 {
		t.Fatalf("the stored greeting: %d samples (%v), want 2 s at 8 kHz", len(pcm), err)
	}
	ulaw := make([]byte, 8000)
	for i := range ulaw {
		ulaw[i] = 0x80 // µ-law of the loudest positive sample
	}
	if res := b.upload(base+"/name", wavFile(7, 1, 8000, 8, ulaw), true); res.status != http.StatusSeeOther {
		t.Fatalf("µ-law upload: %d %s", res.status, res.body)
	}
	mb, _ = v.db.Mailbox(context.Background(), v.ada.ID)
	if pcm, _ := v.vm.Audio(mb.NameFile); len(pcm) != 8000 || pcm[10] < 30000 {
		t.Errorf("the µ-law name decoded to %d samples, first %v", len(pcm), pcm[:1])
	}
	for _, bad := range []struct {
		file []byte
		says string
	}{
		{wavFile(1, 2, 8000, 16, pcmBytes(sine(8000, 1))), "2-channel"},
		{wavFile(1, 1, 44100, 16, pcmBytes(sine(44100, 1))), "16-bit PCM at 44100 Hz"},
		{[]byte("ID3\x03 this is an mp3"), "not a WAV file"},
	} {
		res := b.upload(base+"/greeting", bad.file, true)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, bad.says) || !strings.Contains(res.body, "mono WAV") {
			t.Errorf("upload saying %q: %d\n%s", bad.says, res.status, res.body)
		}
	}
	if mb2, _ := v.db.Mailbox(context.Background(), v.ada.ID); mb2.GreetingFile != mb.GreetingFile {
		t.Errorf("a refused upload replaced the greeting")
	}
	if res := b.get(base + "/greeting/audio"); res.status != 200 || len(res.body) != 44+2*16000 {
		t.Errorf("greeting audio: %d, %d bytes", res.status, len(res.body))
	}
	if res := b.post(base+"/greeting/reset", nil); res.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", res.status)
	}
	if mb2, _ := v.db.Mailbox(context.Background(), v.ada.ID); mb2.GreetingFile != "" || mb2.NameFile == "" {
		t.Errorf("after reset: %+v; want no greeting and the name kept", mb2)
	}
	if _, err := os.Stat(filepath.Join(v.vm.Dir, mb.GreetingFile)); !os.IsNotExist(err) {
		t.Errorf("the old greeting's file: %v, want removed", err)
	}
}

// The same operations under /api/v1.
func TestVoicemailAPI(t *testing.T) {
	v := newVoicemailOffice(t)
	m1 := v.leave(v.ada, "5551", 2)
	m2 := v.leave(v.ada, "5552", 1.5)
	token := v.login("acme-boss").apiToken("vm")
	base := "/extensions/" + id(v.ada.ID) + "/voicemail"
	var got apiMailbox
	if st := v.api(token, "GET", base, nil, &got); st != 200 || len(got.Messages) != 2 || got.Messages[0].CallerNumber != "5551" ||
		got.Messages[0].Folder != "new" || got.Messages[0].DurationSecs != 2 || !got.Enabled {
		t.Fatalf("GET mailbox: %d %+v", st, got)
	}
	var audio string
	if st := v.api(token, "GET", base+"/messages/"+id(m1.ID)+"/audio", nil, &audio); st != 200 || !strings.HasPrefix(audio, "RIFF") {
		t.Errorf("GET audio: %d", st)
	}
	if st := v.api(token, "POST", base+"/messages/"+id(m1.ID)+"/heard", nil, nil); st != 204 {
		t.Errorf("heard: %d", st)
	}
	if st := v.api(token, "DELETE", base+"/messages/"+id(m2.ID), nil, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
	if !v.audited("voicemail deleted", "message "+id(m2.ID)) {
		t.Errorf("the API delete is not audited")
	}
	if st := v.api(token, "PATCH", base, map[string]any{"enabled": false, "no_answer_secs": 30, "email": "ada@acme.example"}, &got); st != 200 ||
		got.Enabled || got.NoAnswerSecs != 30 || got.Email != "ada@acme.example" || len(got.Messages) != 1 || got.Messages[0].Folder != "saved" {
		t.Errorf("PATCH: %d %+v", st, got)
	}
	var apiErr apiErrorBody
	if st := v.api(token, "PATCH", base, map[string]any{"email": "x"}, &apiErr); st != 422 || !strings.Contains(apiErr.Error, "not valid") {
		t.Errorf("PATCH bad e-mail: %d %+v", st, apiErr)
	}
	if st := v.api(token, "PUT", base+"/pin", map[string]any{"pin": "1111"}, nil); st != 422 {
		t.Errorf("weak PIN: %d", st)
	}
	if st := v.api(token, "PUT", base+"/pin", map[string]any{"pin": "4826"}, nil); st != 204 {
		t.Errorf("PIN: %d", st)
	}
	if st := v.api(token, "PUT", base+"/greeting", string(wavFile(1, 1, 8000, 16, pcmBytes(sine(8000, 1.5)))), nil); st != 204 {
		t.Errorf("greeting upload: %d", st)
	}
	if st := v.api(token, "PUT", base+"/greeting", string(wavFile(1, 1, 22050, 16, pcmBytes(sine(22050, 1)))), &apiErr); st != 422 || !strings.Contains(apiErr.Error, "22050 Hz") {
		t.Errorf("bad greeting upload: %d %+v", st, apiErr)
	}
	if st := v.api(token, "GET", base, nil, &got); st != 200 || !got.Greeting {
		t.Errorf("after upload: %+v", got)
	}
	if st := v.api(token, "DELETE", base+"/greeting", nil, nil); st != 204 {
		t.Errorf("greeting reset: %d", st)
	}
	if st := v.api(token, "GET", base, nil, &got); got.Greeting || got.Enabled {
		t.Errorf("after reset: %d %+v", st, got)
	}
}

// A tenant's mail server: saved on the page and through the API, the
// password never shown back (kept when left empty), bad input answered
// beside its field, audited, and another tenant's not found.
func TestVoicemailMailServerSettings(t *testing.T) {
	v := newVoicemailOffice(t)
	b := v.login("acme-boss")
	base := "/tenants/" + id(v.acme.ID) + "/voicemail-mail"
	if res := b.get("/tenants/" + id(v.acme.ID)); !strings.Contains(res.body, `href="`+base+`"`) {
		t.Errorf("the tenant page does not link its voicemail e-mail")
	}
	b.get(base)
	res := b.post(base, url.Values{"host": {"mail.acme.example"}, "port": {"0"}, "security": {"starttls"}, "from": {"vm@acme.example"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "Port must be between") {
		t.Errorf("port 0: %d", res.status)
	}
	res = b.post(base, url.Values{"host": {"mail.acme.example"}, "port": {"587"}, "security": {"starttls"}, "username": {"vm"},
		"password": {"Smtp-Secret-99"}, "from": {"vm@acme.example"}, "delete_after": {"on"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.status, res.body)
	}
	res = b.get(base)
	if strings.Contains(res.body, "Smtp-Secret-99") || !strings.Contains(res.body, "A password is set") || !strings.Contains(res.body, "mail.acme.example") {
		t.Errorf("the page after saving shows the password or not the server:\n%s", res.body)
	}
	if res := b.post(base, url.Values{"host": {"mail2.acme.example"}, "port": {"465"}, "security": {"tls"}, "username": {"vm"}, "from": {"vm@acme.example"}}); res.status != http.StatusSeeOther {
		t.Fatalf("second save: %d", res.status)
	}
	st, err := v.db.SMTPSettingsOf(context.Background(), v.acme.ID)
	if err != nil || st.Password != "Smtp-Secret-99" || st.Host != "mail2.acme.example" || st.Security != store.SMTPTLS || st.DeleteAfter {
		t.Errorf("stored %+v (%v); want the password kept and the rest changed", st, err)
	}
	if !v.audited("voicemail mail server set", "mail2.acme.example:465") {
		t.Errorf("the change is not audited")
	}
	token := b.apiToken("vm")
	var raw string
	if st := v.api(token, "GET", "/tenants/"+id(v.acme.ID)+"/voicemail/smtp", nil, &raw); st != 200 || strings.Contains(raw, "Smtp-Secret-99") ||
		!strings.Contains(raw, `"has_password": true`) {
		t.Errorf("API GET: %d %s", st, raw)
	}
	if st := v.api(token, "PUT", "/tenants/"+id(v.acme.ID)+"/voicemail/smtp", map[string]any{"host": "h", "port": 25, "security": "ssl", "from": "vm@acme.example"}, &raw); st != 422 || !strings.Contains(raw, "security") {
		t.Errorf("API PUT bad security: %d %s", st, raw)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/tenants/" + id(v.beta.ID) + "/voicemail/smtp"},
		{"PUT", "/tenants/" + id(v.beta.ID) + "/voicemail/smtp"}, {"DELETE", "/tenants/" + id(v.beta.ID) + "/voicemail/smtp"}} {
		var body any
		if c.method == "PUT" {
			body = map[string]any{"host": "h", "port": 25, "security": "none", "from": "vm@beta.example"}
		}
		if st := v.api(token, c.method, c.path, body, nil); st != 404 {
			t.Errorf("API %s %s: %d, want 404", c.method, c.path, st)
		}
	}
	if res := b.get("/tenants/" + id(v.beta.ID) + "/voicemail-mail"); res.status != 404 {
		t.Errorf("beta's mail page: %d, want 404", res.status)
	}
	if st := v.api(token, "DELETE", "/tenants/"+id(v.acme.ID)+"/voicemail/smtp", nil, nil); st != 204 {
		t.Errorf("API DELETE: %d", st)
	}
	if _, err := v.db.SMTPSettingsOf(context.Background(), v.acme.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("after DELETE: %v", err)
	}
}

// acme's admin turns unsolicited message-waiting NOTIFYs off on the
// tenant page and on again through the API; a value that is neither is
// refused with a message and changes nothing, each change is audited,
// and beta's admin cannot touch acme's.
func TestTenantUnsolicitedMessageLightsSetting(t *testing.T) {
	v := newVoicemailOffice(t)
	ctx := context.Background()
	boss := v.login("acme-boss")
	path := "/tenants/" + id(v.acme.ID)
	if page := boss.get(path).body; !strings.Contains(page, `<option value="on" selected>`) {
		t.Fatalf("a new tenant's page does not show unsolicited NOTIFYs on:\n%s", page)
	}
	res := boss.post(path, url.Values{"mwi_unsolicited": {"maybe"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-mwi_unsolicited"`) || !strings.Contains(res.body, "Choose on or off") {
		t.Fatalf("a bad value: %d\n%s", res.status, res.body)
	}
	if tn, _ := v.db.TenantByID(ctx, v.acme.ID); !tn.MWIUnsolicited {
		t.Fatal("a refused value changed the setting")
	}
	if res := boss.post(path, url.Values{"mwi_unsolicited": {"off"}}); res.status != http.StatusSeeOther {
		t.Fatalf("turning it off: %d\n%s", res.status, res.body)
	}
	if tn, _ := v.db.TenantByID(ctx, v.acme.ID); tn.MWIUnsolicited {
		t.Fatal("the form did not turn unsolicited NOTIFYs off")
	}
	if page := boss.get(path).body; !strings.Contains(page, `<option value="off" selected>`) {
		t.Error("the tenant page does not show the setting off")
	}
	if audit := boss.get("/audit?action=admin-change").body; !strings.Contains(audit, "unsolicited message-waiting NOTIFYs off") {
		t.Error("the change is not in the audit log")
	}

	token := boss.apiToken("t")
	var e apiErrorBody
	if code := v.api(token, "PATCH", path, map[string]any{"voicemail": map[string]any{"mwi_unsolicited": "maybe"}}, &e); code != http.StatusUnprocessableEntity || !strings.Contains(e.Error, "mwi_unsolicited") {
		t.Errorf("API with a string: %d %+v, want a message naming the field", code, e)
	}
	betaToken := v.login("beta-boss").apiToken("t")
	if code := v.api(betaToken, "PATCH", path, map[string]any{"voicemail": map[string]any{"mwi_unsolicited": true}}, nil); code != http.StatusNotFound {
		t.Errorf("beta's admin changes acme's setting: %d, want 404", code)
	}
	var out apiTenant
	if code := v.api(token, "PATCH", path, map[string]any{"voicemail": map[string]any{"mwi_unsolicited": true}}, &out); code != 200 || !out.Voicemail.MWIUnsolicited {
		t.Errorf("API turns it on: %d %+v", code, out)
	}
	if tn, _ := v.db.TenantByID(ctx, v.acme.ID); !tn.MWIUnsolicited {
		t.Error("the API did not turn unsolicited NOTIFYs on")
	}
}

// An office relay with its own certificate: the admin pastes it on the
// mail server page and sees it kept; text that is no certificate, a
// certificate without encryption, or a login without encryption is
// refused beside its field. The API round-trips it.
func TestVoicemailMailServerTrustsAPastedCertificate(t *testing.T) {
	v := newVoicemailOffice(t)
	b := v.login("acme-boss")
	base := "/tenants/" + id(v.acme.ID) + "/voicemail-mail"
	certPEM := testCertPEM(t)
	form := func(kv ...string) url.Values {
		f := url.Values{"host": {"relay.acme.example"}, "port": {"587"}, "security": {"starttls"}, "from": {"vm@acme.example"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, c := range []struct {
		name  string
		form  url.Values
		field string
		want  string
	}{
		{"not a certificate", form("ca_pem", "hello"), "ca_pem", "PEM form"},
		{"a certificate without encryption", form("ca_pem", certPEM, "security", "none", "port", "25"), "ca_pem", "needs STARTTLS or TLS"},
		{"a login without encryption", form("security", "none", "port", "25", "username", "vm", "password", "Smtp-Secret-99"), "username", "only over STARTTLS or TLS"},
	} {
		res := b.post(base, c.form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-`+c.field+`"`) || !strings.Contains(res.body, c.want) {
			t.Errorf("%s: %d, want %q beside %s", c.name, res.status, c.want, c.field)
		}
	}
	if _, err := v.db.SMTPSettingsOf(context.Background(), v.acme.ID); store.ErrorCode(err) != store.ENOTFOUND {
		t.Fatal("refused settings were stored")
	}
	if res := b.post(base, form("ca_pem", certPEM)); res.status != http.StatusSeeOther {
		t.Fatalf("save with a certificate: %d\n%s", res.status, res.body)
	}
	if page := b.get(base).body; !strings.Contains(page, "BEGIN CERTIFICATE") {
		t.Error("the page does not show the trusted certificate")
	}
	var out apiSMTP
	token := b.apiToken("t")
	if code := v.api(token, "GET", "/tenants/"+id(v.acme.ID)+"/voicemail/smtp", nil, &out); code != 200 || strings.TrimSpace(out.CAPEM) != strings.TrimSpace(certPEM) {
		t.Errorf("API GET: %d, ca_pem %q", code, out.CAPEM)
	}
	var put apiSMTP
	if code := v.api(token, "PUT", "/tenants/"+id(v.acme.ID)+"/voicemail/smtp", map[string]any{"host": "smtp.provider.example", "port": 465,
		"security": "tls", "from": "vm@acme.example"}, &put); code != 200 || put.CAPEM != "" || put.Host != "smtp.provider.example" {
		t.Errorf("API PUT without a certificate: %d, ca_pem %q; want the system's roots again", code, put.CAPEM)
	}
}

// testCertPEM is a self-signed certificate in PEM form.
func testCertPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.acme.example"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"relay.acme.example"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// An admin resetting Ada's voicemail PIN to her hot-desk ID is told why
// it is refused, beside the field.
func TestVoicemailPINResetRefusesTheHotdeskID(t *testing.T) {
	v := newVoicemailOffice(t)
	if _, err := v.db.CreateHotdeskEntry(context.Background(), store.NewHotdeskEntry{Domain: "acme.example", Number: v.ada.Number,
		HotdeskID: "5551234", PIN: "739155"}, "test"); err != nil {
		t.Fatal(err)
	}
	b := v.login("acme-boss")
	res := b.post("/extensions/"+id(v.ada.ID)+"/voicemail/pin", url.Values{"pin": {"5551234"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `id="e-pin"`) || !strings.Contains(res.body, "hot-desk ID") {
		t.Fatalf("PIN = hot-desk ID: %d\n%s", res.status, res.body)
	}
}
