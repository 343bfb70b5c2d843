// Command talkpcap writes one continuous PCMU RTP stream, built from
// segments in order, as a pcap for SIPp's play_pcap_audio: what a phone
// sends through a whole call (silence while a prompt plays, keys as RFC
// 4733 events, speech), e.g. a voicemail listener
//
//	talkpcap -o listen.pcap silence=4s keys=4826# silence=10s keys=1 silence=30s
//
// or a caller leaving a message of speech (raw 8 kHz µ-law, such as
// `sox in.wav -r 8000 -c 1 -e u-law -t raw speech.ul` makes)
//
//	talkpcap -o leave.pcap silence=10s audio=speech.ul
//
// Segments: silence=DURATION (µ-law silence frames), keys=KEYS (RFC 4733,
// payload type -pt, silence between and after them as rtppcap makes it),
// audio=FILE (the file's µ-law bytes, 160 a packet, the last one padded
// with silence). Timestamps and send times follow the 20 ms slots
// throughout, so the stream is as punctual as its player.
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/pion/rtp"

	"deskpbx/internal/rtppcap"
)

const frame = 160 // bytes of µ-law in 20 ms

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "talkpcap:", err)
		os.Exit(2)
	}
}

// builder appends packets slot by slot.
type builder struct {
	ssrc uint32
	seq  uint16
	ts0  uint32
	slot int
	pkts []rtppcap.Packet
}

func (b *builder) audio(payload []byte, marker bool) {
	b.pkts = append(b.pkts, rtppcap.Packet{At: time.Duration(b.slot) * rtppcap.Ptime, Packet: rtp.Packet{Header: rtp.Header{
		Version: 2, Marker: marker, PayloadType: uint8(rtppcap.PCMU), SequenceNumber: b.seq,
		Timestamp: b.ts0 + uint32(b.slot*frame), SSRC: b.ssrc}, Payload: payload}})
	b.seq++
	b.slot++
}

var silenceFrame = func() []byte {
	f := make([]byte, frame)
	for i := range f {
		f[i] = 0xff // µ-law zero
	}
	return f
}()

func run(args []string) error {
	fs := flag.NewFlagSet("talkpcap", flag.ContinueOnError)
	out := fs.String("o", "", "output pcap file")
	pt := fs.Uint("pt", 101, "telephone-event payload type")
	ssrc := fs.Uint("ssrc", 0x74616c6b, "RTP SSRC")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: talkpcap -o FILE.pcap [flags] silence=D|keys=K|audio=FILE.ul ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 || *pt > 127 || *ssrc > 0xffffffff {
		fs.Usage()
		return fmt.Errorf("-o and at least one segment are required")
	}
	b := &builder{ssrc: uint32(*ssrc), seq: 1000, ts0: 8000}
	for _, seg := range fs.Args() {
		kind, val, _ := strings.Cut(seg, "=")
		switch kind {
		case "silence":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return fmt.Errorf("%s: want a duration", seg)
			}
			for i, n := 0, int((d+rtppcap.Ptime/2)/rtppcap.Ptime); i < n; i++ {
				b.audio(silenceFrame, i == 0)
			}
		case "audio":
			data, err := os.ReadFile(val)
			if err != nil {
				return err
			}
			for i := 0; i < len(data); i += frame {
				f := append([]byte(nil), silenceFrame...)
				copy(f, data[i:min(i+frame, len(data))])
				b.audio(f, i == 0)
			}
		case "keys":
			pkts, err := rtppcap.RFC4733Digits(val, uint8(*pt), rtppcap.WithAudio(rtppcap.PCMU),
				rtppcap.WithSSRC(b.ssrc), rtppcap.WithSeq(b.seq), rtppcap.WithTimestamp(b.ts0+uint32(b.slot*frame)))
			if err != nil {
				return err
			}
			base := time.Duration(b.slot) * rtppcap.Ptime
			last := 0
			for _, p := range pkts {
				p.At += base
				b.pkts = append(b.pkts, p)
				last = max(last, int(p.At/rtppcap.Ptime))
			}
			b.seq += uint16(len(pkts))
			b.slot = last + 1
		default:
			return fmt.Errorf("unknown segment %q (silence=, keys=, audio=)", seg)
		}
	}
	src, dst := netip.MustParseAddrPort("192.0.2.1:6000"), netip.MustParseAddrPort("192.0.2.2:6000")
	return rtppcap.WriteFile(*out, src, dst, b.pkts)
}
