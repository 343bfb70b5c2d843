// Command mkpcap writes a pcap of a DTMF RTP stream for SIPp's
// play_pcap_audio, e.g.
//
//	mkpcap -mode rfc4733 -digits 1234# -o dtmf.pcap
//	mkpcap -mode inband -digits 1234# -codec pcma -level -10 -o tones.pcap
//
// and, in the scenario, play_pcap_audio="[dtmf]" with sipp -key dtmf dtmf.pcap
// (SIPp 3.6 refuses a scenario variable there). With -raw, in-band tones
// are written as raw G.711 for SIPp's rtp_stream instead:
//
//	mkpcap -mode inband -raw -lead 2s -digits 2580# -tail 10s -o keys.ul
package main

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"deskpbx/internal/rtppcap"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mkpcap:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkpcap", flag.ContinueOnError)
	var (
		mode   = fs.String("mode", "rfc4733", "rfc4733 (telephone-event) or inband (G.711 tones)")
		digits = fs.String("digits", "", "keys to send: 0-9 * # A-D")
		out    = fs.String("o", "", "output pcap file")
		pt     = fs.Uint("pt", 101, "telephone-event payload type (rfc4733 mode)")
		codec  = fs.String("codec", "pcmu", "pcmu or pcma: the in-band tone codec, or the silence audio of -audio")
		level  = fs.Float64("level", -10, "in-band level of each tone, dBFS (max -6.03)")
		audio  = fs.Bool("audio", false, "rfc4733 mode: fill the gaps with G.711 silence frames, like a real phone")
		tone   = fs.Duration("tone", rtppcap.Ptime*5, "length of each digit")
		gap    = fs.Duration("gap", rtppcap.Ptime*5, "silence after each digit")
		lead   = fs.Duration("lead", 0, "silence before the first digit")
		ssrc   = fs.Uint("ssrc", 0x6465736b, "RTP SSRC")
		seq    = fs.Uint("seq", 1000, "first RTP sequence number")
		ts     = fs.Uint("ts", 8000, "first RTP timestamp")
		src    = fs.String("src", "192.0.2.1:6000", "IPv4 source address:port written in the capture")
		dst    = fs.String("dst", "192.0.2.2:6000", "IPv4 destination address:port (SIPp only uses the port, relative to the lowest in the file)")
		raw    = fs.Bool("raw", false, "inband mode: write the G.711 audio alone, back to back, for SIPp's rtp_stream, instead of a pcap")
		tail   = fs.Duration("tail", 0, "with -raw: silence after the last digit's gap, so the stream goes on as a phone's does")
	)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mkpcap -mode rfc4733|inband -digits KEYS -o FILE.pcap [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" || *digits == "" {
		fs.Usage()
		return fmt.Errorf("-digits and -o are required")
	}
	if *pt > 127 || *ssrc > 0xffffffff || *seq > 0xffff || *ts > 0xffffffff {
		return fmt.Errorf("-pt, -ssrc, -seq or -ts out of range")
	}
	var c rtppcap.Codec
	switch strings.ToLower(*codec) {
	case "pcmu", "ulaw":
		c = rtppcap.PCMU
	case "pcma", "alaw":
		c = rtppcap.PCMA
	default:
		return fmt.Errorf("unknown -codec %q (pcmu or pcma)", *codec)
	}
	srcAP, err := netip.ParseAddrPort(*src)
	if err != nil {
		return fmt.Errorf("-src: %w", err)
	}
	dstAP, err := netip.ParseAddrPort(*dst)
	if err != nil {
		return fmt.Errorf("-dst: %w", err)
	}

	opts := []rtppcap.Option{
		rtppcap.WithSSRC(uint32(*ssrc)),
		rtppcap.WithSeq(uint16(*seq)),
		rtppcap.WithTimestamp(uint32(*ts)),
		rtppcap.WithTone(*tone),
		rtppcap.WithGap(*gap),
		rtppcap.WithLeadIn(*lead),
	}
	var pkts []rtppcap.Packet
	switch *mode {
	case "rfc4733":
		if *audio {
			opts = append(opts, rtppcap.WithAudio(c))
		}
		pkts, err = rtppcap.RFC4733Digits(*digits, uint8(*pt), opts...)
	case "inband":
		pkts, err = rtppcap.InbandDigits(*digits, c, *level, opts...)
	default:
		return fmt.Errorf("unknown -mode %q (rfc4733 or inband)", *mode)
	}
	if err != nil {
		return err
	}
	if *raw {
		if *mode != "inband" {
			return fmt.Errorf("-raw needs -mode inband: SIPp's rtp_stream sends audio only")
		}
		return writeRaw(*out, c, pkts, *tail)
	}
	return rtppcap.WriteFile(*out, srcAP, dstAP, pkts)
}

// writeRaw writes the packets' payloads back to back, then tail of
// silence: a file SIPp's rtp_stream plays from a plain UDP socket.
// play_pcap_audio sends through a raw socket, and every raw socket open
// for UDP makes the kernel's delivery of each UDP datagram on the host
// that much slower (raw_local_deliver walks them all): a thousand calls
// playing pcaps slow every packet on loopback, the PBX's included.
func writeRaw(path string, c rtppcap.Codec, pkts []rtppcap.Packet, tail time.Duration) error {
	var b []byte
	for _, p := range pkts {
		b = append(b, p.Payload...)
	}
	silence := c.Silence()
	for range int(tail / (time.Second / 8000)) {
		b = append(b, silence)
	}
	return os.WriteFile(path, b, 0o644)
}
