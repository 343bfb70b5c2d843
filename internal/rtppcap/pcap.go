// Package rtppcap writes and reads classic libpcap files of RTP over
// IPv4/UDP, and generates DTMF RTP streams to put in them.
//
// It exists for SIPp's play_pcap_audio: the pcaps SIPp ships all carry the
// same RTP timestamp, so two of them played back to back look like one
// RFC 4733 event. Streams made here have distinct, increasing timestamps,
// fixed SSRC/seq defaults and a fixed capture epoch, so the same arguments
// always give the same file.
package rtppcap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"time"
)

const (
	magicMicro = 0xa1b2c3d4
	magicNano  = 0xa1b23c4d

	linkEthernet = 1
	linkLinuxSLL = 113

	etherTypeIPv4 = 0x0800
	etherTypeVLAN = 0x8100
	protoUDP      = 17

	ethHdrLen  = 14
	ipv4HdrLen = 20
	udpHdrLen  = 8
	snapLen    = 65535
)

// epoch is the capture time of a stream's first packet. It is fixed, not
// time.Now, so regenerated pcaps are byte-identical.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Locally administered MACs: nothing reads them, but Ethernet needs some.
var (
	srcMAC = [6]byte{0x02, 0, 0, 0, 0, 0x01}
	dstMAC = [6]byte{0x02, 0, 0, 0, 0, 0x02}
)

// Writer writes a pcap (microsecond timestamps, Ethernet link type) of
// IPv4/UDP datagrams from Src to Dst. SIPp keeps only the UDP payload and
// the timing; it sends to the call's media address, offset by how far each
// packet's destination port is above the lowest one in the file, so one
// Dst port means "the remote RTP port".
type Writer struct {
	w        io.Writer
	src, dst netip.AddrPort
	start    time.Time
	last     time.Duration
	n        int
	ipID     uint16
	buf      []byte
}

// NewWriter writes the pcap file header to w. Both addresses must be IPv4.
func NewWriter(w io.Writer, src, dst netip.AddrPort) (*Writer, error) {
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return nil, fmt.Errorf("rtppcap: addresses must be IPv4, got %v -> %v", src, dst)
	}
	var h [24]byte
	le := binary.LittleEndian
	le.PutUint32(h[0:], magicMicro)
	le.PutUint16(h[4:], 2) // version 2.4
	le.PutUint16(h[6:], 4)
	// h[8:16]: thiszone and sigfigs, always zero in practice.
	le.PutUint32(h[16:], snapLen)
	le.PutUint32(h[20:], linkEthernet)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &Writer{w: w, src: src, dst: dst, start: epoch, ipID: 1}, nil
}

// WriteUDP writes one datagram captured at offset at from the stream start.
// Offsets must not decrease: SIPp paces playback by them.
func (w *Writer) WriteUDP(at time.Duration, payload []byte) error {
	if w.n > 0 && at < w.last {
		return fmt.Errorf("rtppcap: packet at %v is before the previous one at %v", at, w.last)
	}
	if ipv4HdrLen+udpHdrLen+len(payload) > 0xffff {
		return fmt.Errorf("rtppcap: payload of %d bytes does not fit an IPv4 datagram", len(payload))
	}
	w.last = at
	w.n++

	frameLen := ethHdrLen + ipv4HdrLen + udpHdrLen + len(payload)
	w.buf = append(w.buf[:0], make([]byte, 16+frameLen)...)
	b := w.buf
	le, be := binary.LittleEndian, binary.BigEndian

	t := w.start.Add(at)
	le.PutUint32(b[0:], uint32(t.Unix()))
	le.PutUint32(b[4:], uint32(t.Nanosecond()/1000))
	le.PutUint32(b[8:], uint32(frameLen))
	le.PutUint32(b[12:], uint32(frameLen))

	eth := b[16:]
	copy(eth[0:], dstMAC[:])
	copy(eth[6:], srcMAC[:])
	be.PutUint16(eth[12:], etherTypeIPv4)

	ip := eth[ethHdrLen:]
	ip[0] = 0x45 // IPv4, 20-byte header
	ip[1] = 0xb8 // DSCP EF, as phones mark RTP; makes the capture look real
	be.PutUint16(ip[2:], uint16(ipv4HdrLen+udpHdrLen+len(payload)))
	be.PutUint16(ip[4:], w.ipID)
	w.ipID++
	be.PutUint16(ip[6:], 0x4000) // don't fragment
	ip[8] = 64
	ip[9] = protoUDP
	s4, d4 := w.src.Addr().As4(), w.dst.Addr().As4()
	copy(ip[12:], s4[:])
	copy(ip[16:], d4[:])
	be.PutUint16(ip[10:], ^fold(sum16(ip[:ipv4HdrLen], 0)))

	udp := ip[ipv4HdrLen:]
	ulen := udpHdrLen + len(payload)
	be.PutUint16(udp[0:], w.src.Port())
	be.PutUint16(udp[2:], w.dst.Port())
	be.PutUint16(udp[4:], uint16(ulen))
	copy(udp[udpHdrLen:], payload)
	// Pseudo-header: addresses, protocol, UDP length.
	s := sum16(ip[12:20], 0) + protoUDP + uint32(ulen)
	c := ^fold(sum16(udp[:ulen], s))
	if c == 0 {
		c = 0xffff // zero means "no checksum" in UDP over IPv4
	}
	be.PutUint16(udp[6:], c)

	_, err := w.w.Write(b)
	return err
}

// Write writes one generated packet at its offset.
func (w *Writer) Write(p Packet) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	return w.WriteUDP(p.At, b)
}

// WriteAll writes packets in order.
func (w *Writer) WriteAll(pkts []Packet) error {
	for _, p := range pkts {
		if err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes pkts as a complete pcap file at path.
func WriteFile(path string, src, dst netip.AddrPort, pkts []Packet) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	w, err := NewWriter(bw, src, dst)
	if err == nil {
		err = w.WriteAll(pkts)
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sum16 adds b as big-endian 16-bit words to s (the one's-complement sum,
// unfolded).
func sum16(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Record is one UDP datagram read from a pcap.
type Record struct {
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Reader reads IPv4/UDP datagrams from a classic pcap, in either byte
// order, with micro- or nanosecond timestamps, from Ethernet (optionally
// one VLAN tag) or Linux cooked captures: the same inputs SIPp accepts, so
// tests can check what SIPp will see, including in the pcaps it ships.
type Reader struct {
	r     *bufio.Reader
	order binary.ByteOrder
	nano  bool
	link  uint32
	hdr   [16]byte
}

// ErrFormat reports a file that is not a pcap this package can read.
var ErrFormat = errors.New("rtppcap: not a supported pcap file")

// NewReader reads the file header from r.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{r: bufio.NewReader(r)}
	var h [24]byte
	if _, err := io.ReadFull(rd.r, h[:]); err != nil {
		return nil, fmt.Errorf("rtppcap: reading header: %w", err)
	}
	switch m := binary.LittleEndian.Uint32(h[:]); {
	case m == magicMicro || m == magicNano:
		rd.order = binary.LittleEndian
	case binary.BigEndian.Uint32(h[:]) == magicMicro || binary.BigEndian.Uint32(h[:]) == magicNano:
		rd.order = binary.BigEndian
	default:
		return nil, ErrFormat
	}
	rd.nano = rd.order.Uint32(h[:]) == magicNano
	rd.link = rd.order.Uint32(h[20:])
	if rd.link != linkEthernet && rd.link != linkLinuxSLL {
		return nil, fmt.Errorf("%w: link type %d", ErrFormat, rd.link)
	}
	return rd, nil
}

// Next returns the next IPv4/UDP datagram, skipping any other frame, and
// io.EOF after the last one.
func (r *Reader) Next() (Record, error) {
	for {
		if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				err = fmt.Errorf("rtppcap: truncated record header: %w", err)
			}
			return Record{}, err
		}
		sec, frac := r.order.Uint32(r.hdr[0:]), r.order.Uint32(r.hdr[4:])
		incl, orig := r.order.Uint32(r.hdr[8:]), r.order.Uint32(r.hdr[12:])
		if incl > 1<<18 {
			return Record{}, fmt.Errorf("%w: record of %d bytes", ErrFormat, incl)
		}
		frame := make([]byte, incl)
		if _, err := io.ReadFull(r.r, frame); err != nil {
			return Record{}, fmt.Errorf("rtppcap: truncated record: %w", err)
		}
		if incl != orig {
			// As SIPp does: a snapped packet would play a cut payload.
			return Record{}, fmt.Errorf("%w: truncated capture (%d of %d bytes)", ErrFormat, incl, orig)
		}
		ns := int64(frac) * 1000
		if r.nano {
			ns = int64(frac)
		}
		rec, ok := r.parse(frame)
		if !ok {
			continue
		}
		rec.Time = time.Unix(int64(sec), ns).UTC()
		return rec, nil
	}
}

func (r *Reader) parse(frame []byte) (Record, bool) {
	be := binary.BigEndian
	var et, off int
	switch r.link {
	case linkEthernet:
		if len(frame) < ethHdrLen {
			return Record{}, false
		}
		et, off = int(be.Uint16(frame[12:])), ethHdrLen
		if et == etherTypeVLAN && len(frame) >= ethHdrLen+4 {
			et, off = int(be.Uint16(frame[16:])), ethHdrLen+4
		}
	case linkLinuxSLL:
		if len(frame) < 16 {
			return Record{}, false
		}
		et, off = int(be.Uint16(frame[14:])), 16
	}
	if et != etherTypeIPv4 {
		return Record{}, false
	}
	ip := frame[off:]
	if len(ip) < ipv4HdrLen || ip[0]>>4 != 4 || ip[9] != protoUDP {
		return Record{}, false
	}
	ihl := int(ip[0]&0x0f) * 4
	if ihl < ipv4HdrLen || len(ip) < ihl+udpHdrLen {
		return Record{}, false
	}
	udp := ip[ihl:]
	ulen := int(be.Uint16(udp[4:]))
	if ulen < udpHdrLen || ulen > len(udp) {
		return Record{}, false
	}
	src := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[12:16])), be.Uint16(udp[0:]))
	dst := netip.AddrPortFrom(netip.AddrFrom4([4]byte(ip[16:20])), be.Uint16(udp[2:]))
	return Record{Src: src, Dst: dst, Payload: udp[udpHdrLen:ulen]}, true
}
