// Command rtpjitter says how punctually a sender paced its RTP, from a
// capture of it (classic pcap, Ethernet or Linux cooked, any snap length
// of at least the RTP header), e.g. deskpbx's prompts captured on lo:
//
//	dumpcap -i lo -P -s 64 -f "udp src portrange 20000-22000" -w rtp.pcap
//	rtpjitter rtp.pcap
//
// What it measures: a G.711 sender stamps each 20 ms frame with an RTP
// timestamp 160 samples after the previous one and is meant to send it
// when its 20 ms slot comes. Within one talkspurt (a run of packets of one
// stream with consecutive sequence numbers and timestamps, which a marker
// bit or a jump ends), every packet's capture time minus its timestamp
// (as time) would be the same constant if it were sent exactly on its
// slot; the smallest such offset in the talkspurt is taken as that
// constant, and a packet's lateness is how far its offset is above it. A
// packet is late if that exceeds -late (5 ms). On loopback the capture
// time is the send time, so this is the sender's pacing, free of network
// delay; a talkspurt that is late as a whole from its first packet (a
// delayed start) is not counted, only drift and bunching within it.
//
// It prints key=value lines for scripts, then a one-line summary.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	late := flag.Duration("late", 5*time.Millisecond, "a packet later than this past its slot counts as late")
	ports := flag.String("src-ports", "", "only packets from this UDP source port range LO-HI (default: all)")
	rate := flag.Int("rate", 8000, "RTP clock rate of the streams, Hz")
	relay := flag.Bool("relay", false, "measure a relay instead: how long each packet sent from -src-ports took since it reached them (see relay.go)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: rtpjitter [flags] CAPTURE.pcap")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *rate <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	lo, hi := 0, 65535
	if *ports != "" {
		a, b, ok := strings.Cut(*ports, "-")
		var err1, err2 error
		lo, err1 = strconv.Atoi(a)
		hi, err2 = strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || lo > hi {
			fmt.Fprintln(os.Stderr, "rtpjitter: -src-ports wants LO-HI")
			os.Exit(2)
		}
	}
	if *relay {
		rr, err := analyseRelay(flag.Arg(0), uint16(lo), uint16(hi), *late)
		if err != nil {
			fmt.Fprintln(os.Stderr, "rtpjitter:", err)
			os.Exit(1)
		}
		rr.print(os.Stdout, *late)
		return
	}
	r, err := analyse(flag.Arg(0), uint16(lo), uint16(hi), *rate, *late)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpjitter:", err)
		os.Exit(1)
	}
	r.print(os.Stdout, *late)
}

type streamKey struct {
	src, dst uint16
	ssrc     uint32
}

type stream struct {
	seq     uint16
	ts, ts0 uint32          // last timestamp, and the current talkspurt's first
	offsets []time.Duration // capture time minus timestamp time, this talkspurt
}

type result struct {
	packets, streams, talkspurts, late, skipped int
	lateness                                    []time.Duration
}

func (r *result) flush(s *stream, late time.Duration) {
	if len(s.offsets) == 0 {
		return
	}
	base := slices.Min(s.offsets)
	for _, o := range s.offsets {
		d := o - base
		r.lateness = append(r.lateness, d)
		if d > late {
			r.late++
		}
	}
	r.talkspurts++
	s.offsets = s.offsets[:0]
}

func analyse(path string, lo, hi uint16, rate int, late time.Duration) (*result, error) {
	r := &result{}
	streams := map[streamKey]*stream{}
	err := eachPacket(path, func(at time.Duration, from, to netip.AddrPort, payload []byte) {
		src, dst := from.Port(), to.Port()
		if src < lo || src > hi {
			return
		}
		if !isRTP(payload) {
			r.skipped++
			return
		}
		marker := payload[1]&0x80 != 0
		seq := binary.BigEndian.Uint16(payload[2:])
		ts := binary.BigEndian.Uint32(payload[4:])
		k := streamKey{src, dst, binary.BigEndian.Uint32(payload[8:])}
		s := streams[k]
		if s == nil {
			s = &stream{}
			streams[k] = s
			r.streams++
		} else if marker || seq != s.seq+1 || ts-s.ts != uint32(rate/50)*uint32(seq-s.seq) {
			r.flush(s, late)
		}
		if len(s.offsets) == 0 {
			s.ts0 = ts
		}
		s.seq, s.ts = seq, ts
		// The timestamp as time since the talkspurt's first packet
		// (uint32 arithmetic: a wrap inside a talkspurt is harmless).
		tsTime := time.Duration(int64(ts-s.ts0) * int64(time.Second) / int64(rate))
		s.offsets = append(s.offsets, at-tsTime)
		r.packets++
	})
	if err != nil {
		return nil, err
	}
	for _, s := range streams {
		r.flush(s, late)
	}
	return r, nil
}

// isRTP: RTP version 2, not RTCP (payload types 72-76 with the marker bit).
func isRTP(payload []byte) bool {
	return len(payload) >= 12 && payload[0]>>6 == 2 && (payload[1] < 200 || payload[1] > 204)
}

// eachPacket calls fn with every IPv4/UDP packet of the capture at path:
// its capture time, source and destination, and payload (as captured).
func eachPacket(path string, fn func(at time.Duration, from, to netip.AddrPort, payload []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, err := newReader(f)
	if err != nil {
		return err
	}
	for {
		at, src, dst, payload, err := rd.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		fn(at, netip.AddrPortFrom(netip.AddrFrom4(rd.srcIP), src), netip.AddrPortFrom(netip.AddrFrom4(rd.dstIP), dst), payload)
	}
}

// quantiles sorts ds and returns its p-quantile function (0 when empty).
func quantiles(ds []time.Duration) func(p float64) time.Duration {
	slices.Sort(ds)
	return func(p float64) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
}

func (r *result) print(w io.Writer, late time.Duration) {
	q := quantiles(r.lateness)
	share := 0.0
	if r.packets > 0 {
		share = 100 * float64(r.late) / float64(r.packets)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "packets=%d\nstreams=%d\ntalkspurts=%d\nlate=%d\nlate_pct=%.3f\np50_ms=%s\np99_ms=%s\np999_ms=%s\nmax_ms=%s\nskipped=%d\n",
		r.packets, r.streams, r.talkspurts, r.late, share, ms(q(0.5)), ms(q(0.99)), ms(q(0.999)), ms(q(1)), r.skipped)
	fmt.Fprintf(w, "# %d RTP packets in %d streams (%d talkspurts): %d (%.3f%%) more than %v after their slot; lateness p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms\n",
		r.packets, r.streams, r.talkspurts, r.late, share, late, ms(q(0.5)), ms(q(0.99)), ms(q(0.999)), ms(q(1)))
}

// reader reads classic pcap records, keeping only IPv4/UDP and tolerating
// a snap length shorter than the packets (only the RTP header is needed).
type reader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	nano  bool
	link  uint32
	hdr   [16]byte
	buf   []byte
	srcIP [4]byte // of the packet next returned last
	dstIP [4]byte
}

func newReader(f io.Reader) (*reader, error) {
	rd := &reader{r: bufio.NewReaderSize(f, 1<<20)}
	var h [24]byte
	if _, err := io.ReadFull(rd.r, h[:]); err != nil {
		return nil, fmt.Errorf("reading the pcap header: %w", err)
	}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == 0xa1b2c3d4, binary.LittleEndian.Uint32(h[:]) == 0xa1b23c4d:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:]) == 0xa1b2c3d4, binary.BigEndian.Uint32(h[:]) == 0xa1b23c4d:
		rd.order = binary.BigEndian
	default:
		return nil, errors.New("not a classic pcap file (pcapng? capture with dumpcap -P)")
	}
	rd.nano = rd.order.Uint32(h[:]) == 0xa1b23c4d
	rd.link = rd.order.Uint32(h[20:])
	if rd.link != 1 && rd.link != 113 {
		return nil, fmt.Errorf("link type %d: want Ethernet (1) or Linux cooked (113)", rd.link)
	}
	return rd, nil
}

// next returns the capture time (since the epoch, as a Duration) and the
// UDP ports and payload (as captured) of the next IPv4/UDP packet.
func (rd *reader) next() (at time.Duration, src, dst uint16, payload []byte, err error) {
	for {
		if _, err = io.ReadFull(rd.r, rd.hdr[:]); err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a capture cut short by its writer's exit
			}
			return
		}
		sec, frac, incl := rd.order.Uint32(rd.hdr[0:]), rd.order.Uint32(rd.hdr[4:]), rd.order.Uint32(rd.hdr[8:])
		if incl > 1<<18 {
			err = fmt.Errorf("record of %d bytes: corrupt capture", incl)
			return
		}
		if cap(rd.buf) < int(incl) {
			rd.buf = make([]byte, incl)
		}
		frame := rd.buf[:incl]
		if _, err = io.ReadFull(rd.r, frame); err != nil {
			err = io.EOF
			return
		}
		ns := int64(frac) * 1000
		if rd.nano {
			ns = int64(frac)
		}
		at = time.Duration(int64(sec)*int64(time.Second) + ns)
		off, et := 14, 0
		if rd.link == 1 {
			if len(frame) < 14 {
				continue
			}
			et = int(binary.BigEndian.Uint16(frame[12:]))
		} else {
			if len(frame) < 16 {
				continue
			}
			off, et = 16, int(binary.BigEndian.Uint16(frame[14:]))
		}
		if et != 0x0800 || len(frame) < off+20 {
			continue
		}
		ip := frame[off:]
		ihl := int(ip[0]&0x0f) * 4
		if ip[0]>>4 != 4 || ip[9] != 17 || ihl < 20 || len(ip) < ihl+8 {
			continue
		}
		udp := ip[ihl:]
		copy(rd.srcIP[:], ip[12:16])
		copy(rd.dstIP[:], ip[16:20])
		return at, binary.BigEndian.Uint16(udp[0:]), binary.BigEndian.Uint16(udp[2:]), udp[8:], nil
	}
}
