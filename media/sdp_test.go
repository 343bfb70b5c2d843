package media

import (
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// crlf turns a readable offer into wire form.
func crlf(s string) []byte {
	s = strings.TrimLeft(s, "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// Offers shaped like what the phones in our test lab send.
var (
	baresipOffer = crlf(`
v=0
o=- 1405574405 3294856632 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 10004 RTP/AVP 96 0 8 101
b=AS:128
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=label:1
a=rtcp-rsize
a=ptime:20
`)
	linphoneOffer = crlf(`
v=0
o=1001 3034 1209 IN IP4 127.0.0.1
s=Talk
c=IN IP4 127.0.0.1
t=0 0
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics
a=record:off
m=audio 7078 RTP/AVP 96 97 98 8 0 18 101 99 100
a=rtpmap:96 opus/48000/2
a=fmtp:96 useinbandfec=1
a=rtpmap:97 speex/16000
a=fmtp:97 vbr=on
a=rtpmap:98 speex/8000
a=fmtp:98 vbr=on
a=fmtp:18 annexb=yes
a=rtpmap:101 telephone-event/48000
a=rtpmap:99 telephone-event/16000
a=rtpmap:100 telephone-event/8000
a=rtcp-fb:* trr-int 1000
a=rtcp-fb:* ccm tmmbr
`)
	// SIPp's uac_pcap scenario: PCMA only, no rtpmap for the static type.
	sippOffer = crlf(`
v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 8 101
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-11,16
`)
	// SIPp's basic uac: bare PCMU, no telephone-event, LF line endings.
	sippBasicOffer = []byte("v=0\no=user1 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n")
	// A desk phone preferring G.722, media-level c=.
	deskPhoneOffer = crlf(`
v=0
o=- 20150 20150 IN IP4 192.0.2.10
s=SDP data
t=0 0
m=audio 11780 RTP/AVP 9 8 0 18 101
c=IN IP4 192.0.2.10
a=rtpmap:9 G722/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=ptime:20
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
`)
	g729Offer = crlf(`
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 18 101
a=rtpmap:18 G729/8000
a=rtpmap:101 telephone-event/8000
`)
)

func TestNegotiateRealOffers(t *testing.T) {
	cases := []struct {
		name   string
		offer  []byte
		codec  Codec
		event  uint8
		remote string
	}{
		{"baresip, opus first", baresipOffer, PCMU, 101, "127.0.0.1:10004"},
		{"linphone, PCMA before PCMU, telephone-event at 3 rates", linphoneOffer, PCMA, 100, "127.0.0.1:7078"},
		{"SIPp PCMA only", sippOffer, PCMA, 101, "127.0.0.1:6000"},
		{"SIPp basic, no telephone-event", sippBasicOffer, PCMU, 0, "127.0.0.1:6000"},
		{"desk phone, G.722 first, media-level c=", deskPhoneOffer, PCMA, 101, "192.0.2.10:11780"},
	}
	for _, tc := range cases {
		a, err := Negotiate(tc.offer)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if a.Codec != tc.codec || a.EventPT != tc.event || a.Remote.String() != tc.remote || a.Direction != SendRecv {
			t.Errorf("%s: got %v event %d remote %v %v", tc.name, a.Codec, a.EventPT, a.Remote, a.Direction)
		}
	}
}

func TestNegotiateRefusesOffersWithoutG711(t *testing.T) {
	offers := map[string][]byte{
		"G.729 only":      g729Offer,
		"SRTP only":       []byte(strings.Replace(string(sippBasicOffer), "RTP/AVP", "RTP/SAVP", 1)),
		"video only":      crlf("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=video 6002 RTP/AVP 96\na=rtpmap:96 H264/90000\n"),
		"audio disabled":  []byte(strings.Replace(string(sippBasicOffer), "m=audio 6000", "m=audio 0", 1)),
		"no media at all": crlf("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"),
		"PT 0 redefined":  crlf("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 G729/8000\n"),
		"PCMU at 16 kHz":  crlf("v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 6000 RTP/AVP 0\na=rtpmap:0 PCMU/16000\n"),
	}
	for name, offer := range offers {
		if _, err := Negotiate(offer); !errors.Is(err, ErrNoCommonCodec) {
			t.Errorf("%s: err = %v, want ErrNoCommonCodec", name, err)
		}
	}
}

func TestNegotiateRejectsMalformedSDP(t *testing.T) {
	offers := map[string]string{
		"empty":                  "",
		"not SDP":                "hello world",
		"missing v=0":            "o=- 1 1 IN IP4 127.0.0.1\r\nc=IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n",
		"v=1":                    "v=1\r\n",
		"bad port":               "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 70000 RTP/AVP 0\r\n",
		"short m=":               "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP\r\n",
		"hostname in c=":         "v=0\r\nc=IN IP4 pbx.example.com\r\nm=audio 6000 RTP/AVP 0\r\n",
		"IPv6 address under IP4": "v=0\r\nc=IN IP4 ::1\r\nm=audio 6000 RTP/AVP 0\r\n",
		"no c= for the audio":    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n",
		"garbage line":           "v=0\r\nc=IN IP4 127.0.0.1\r\nthis is not sdp\r\nm=audio 6000 RTP/AVP 0\r\n",
		"c= with too few fields": "v=0\r\nc=IN 127.0.0.1\r\nm=audio 6000 RTP/AVP 0\r\n",
		"binary junk":            "v=0\r\n\x00\x01\x02",
		"oversized":              "v=0\r\n" + strings.Repeat("a=x\r\n", 20000),
	}
	for name, offer := range offers {
		_, err := Negotiate([]byte(offer))
		if !errors.Is(err, ErrMalformedSDP) {
			t.Errorf("%s: err = %v, want ErrMalformedSDP", name, err)
		}
	}
}

func TestNegotiateHold(t *testing.T) {
	hold := func(dir string) []byte {
		return []byte(strings.Replace(string(baresipOffer), "a=sendrecv", "a="+dir, 1))
	}
	cases := []struct {
		name   string
		offer  []byte
		answer Direction
		remote bool
	}{
		{"sendonly (hold)", hold("sendonly"), RecvOnly, true},
		{"inactive", hold("inactive"), Inactive, true},
		{"recvonly", hold("recvonly"), SendOnly, true},
		{"session-level sendonly", crlf("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\na=sendonly\nm=audio 6000 RTP/AVP 0\n"), RecvOnly, true},
		{"media-level overrides session-level", crlf("v=0\no=- 1 2 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\na=inactive\nm=audio 6000 RTP/AVP 0\na=sendrecv\n"), SendRecv, true},
		{"RFC 2543 hold, c=0.0.0.0", []byte(strings.Replace(string(sippBasicOffer), "c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0", 1)), RecvOnly, false},
	}
	for _, tc := range cases {
		a, err := Negotiate(tc.offer)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if a.Direction != tc.answer || a.Remote.IsValid() != tc.remote {
			t.Errorf("%s: answer %v, remote %v", tc.name, a.Direction, a.Remote)
		}
		if !strings.Contains(string(a.Marshal("127.0.0.1", 20000)), "a="+tc.answer.String()+"\r\n") {
			t.Errorf("%s: answer SDP lacks a=%v", tc.name, tc.answer)
		}
	}
}

func TestNegotiateSkipsDisabledStreams(t *testing.T) {
	offer := crlf(`
v=0
o=- 1 1 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 0 RTP/AVP 0
m=video 6002 RTP/AVP 96
a=rtpmap:96 H264/90000
m=audio 6004 RTP/AVP 18 8
`)
	a, err := Negotiate(offer)
	if err != nil {
		t.Fatal(err)
	}
	if a.Codec != PCMA || a.Remote.Port() != 6004 {
		t.Fatalf("chose %v at %v", a.Codec, a.Remote)
	}
	sdp := string(a.Marshal("127.0.0.1", 20000))
	want := []string{"m=audio 0 RTP/AVP 0\r\n", "m=video 0 RTP/AVP 96\r\n", "m=audio 20000 RTP/AVP 8\r\n"}
	idx := 0
	for _, w := range want {
		i := strings.Index(sdp[idx:], w)
		if i < 0 {
			t.Fatalf("answer lacks %q in order:\n%s", w, sdp)
		}
		idx += i
	}
}

func TestAnswerMarshalIsValidSDP(t *testing.T) {
	a, err := Negotiate(linphoneOffer)
	if err != nil {
		t.Fatal(err)
	}
	sdp := a.Marshal("127.0.0.1", 20002)
	lines := strings.Split(strings.TrimSuffix(string(sdp), "\r\n"), "\r\n")
	wantOrder := []string{"v=0", "o=deskpbx ", "s=", "c=IN IP4 127.0.0.1", "t=0 0", "m=audio 20002 RTP/AVP 8 100"}
	for i, w := range wantOrder {
		if !strings.HasPrefix(lines[i], w) {
			t.Fatalf("line %d = %q, want %q...\n%s", i, lines[i], w, sdp)
		}
	}
	for _, w := range []string{"a=rtpmap:8 PCMA/8000", "a=rtpmap:100 telephone-event/8000", "a=fmtp:100 0-16", "a=ptime:20", "a=sendrecv"} {
		if !strings.Contains(string(sdp), w+"\r\n") {
			t.Errorf("answer lacks %q", w)
		}
	}
	// Our own answer must read back as what we negotiated.
	back, err := ParseSDP(sdp)
	if err != nil {
		t.Fatal(err)
	}
	m := back.Media[0]
	if m.Port != 20002 || m.Conn != netip.MustParseAddr("127.0.0.1") || m.Ptime != 20 || len(m.Formats) != 2 {
		t.Fatalf("answer reads back as %+v", m)
	}
}

var originRE = regexp.MustCompile(`o=deskpbx (\d+) (\d+) IN IP4 `)

func TestOriginStableSessionIDAndVersion(t *testing.T) {
	a, err := Negotiate(baresipOffer)
	if err != nil {
		t.Fatal(err)
	}
	o1 := originRE.FindStringSubmatch(string(a.Marshal("127.0.0.1", 20000)))
	o2 := originRE.FindStringSubmatch(string(a.Marshal("127.0.0.1", 20000)))
	if o1 == nil || o1[1] != o2[1] || o1[2] != o2[2] {
		t.Fatalf("repeating the same answer changed o=: %v %v", o1, o2)
	}
	// The phone puts us on hold: same session, next version.
	held, err := a.Renegotiate([]byte(strings.Replace(string(baresipOffer), "a=sendrecv", "a=sendonly", 1)))
	if err != nil {
		t.Fatal(err)
	}
	o3 := originRE.FindStringSubmatch(string(held.Marshal("127.0.0.1", 20000)))
	if o3[1] != o1[1] || o3[2] == o1[2] {
		t.Fatalf("re-answer o= %v after %v: want same id, new version", o3, o1)
	}
	// A fresh call gets a fresh session id.
	b, _ := Negotiate(baresipOffer)
	if o4 := originRE.FindStringSubmatch(string(b.Marshal("127.0.0.1", 20000))); o4[1] == o1[1] {
		t.Fatalf("two calls share session id %s", o1[1])
	}
}

func TestOfferRoundTrip(t *testing.T) {
	o := NewOffer()
	sdp := o.Marshal("127.0.0.1", 20004)
	// We must accept our own offer as any phone's.
	a, err := Negotiate(sdp)
	if err != nil {
		t.Fatal(err)
	}
	if a.Codec != PCMU || a.EventPT != 101 || a.Remote.String() != "127.0.0.1:20004" {
		t.Fatalf("own offer negotiates to %+v", a.Negotiated)
	}
	// And read a phone's answer to it.
	n, err := o.Accept(crlf(`
v=0
o=- 7 7 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 7078 RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=recvonly
`))
	if err != nil {
		t.Fatal(err)
	}
	if n.Codec != PCMA || n.EventPT != 101 || n.Remote.String() != "127.0.0.1:7078" || n.Direction != SendOnly {
		t.Fatalf("answer accepted as %+v", n)
	}
	if _, err := o.Accept([]byte(strings.Replace(string(sdp), "m=audio 20004", "m=audio 0", 1))); !errors.Is(err, ErrNoCommonCodec) {
		t.Fatalf("rejected stream: err = %v", err)
	}
}
