package pbx

import (
	"errors"
	"net"
	"net/netip"
	"sync"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

var errShortBatch = errors.New("sendmmsg sent nothing")

// udpBatchMax is the most datagrams one sendmmsg carries.
const udpBatchMax = 32

// udpOut sends datagrams queued on the SIP UDP socket together, as
// many per system call as were queued (sendmmsg through x/net's
// WriteBatch). The socket's reading goroutine answers REGISTERs without
// credentials as it reads them, up to a dozen per batched read; it sends
// their 401s together once the batch is handled (sipgo's OnUDPReadDone).
// The binding writer likewise sends the 200s of a committed batch of
// bindings together (queueRegisterOK), on an udpOut of its own.
type udpOut struct {
	write func([]ipv4.Message, int) (int, error)

	mu      sync.Mutex
	pending []udpDatagram

	// The flusher's own, reused for every batch.
	flushing sync.Mutex
	sending  []udpDatagram
	msgs     []ipv4.Message
	addrs    []net.UDPAddr
	ips      [][16]byte
}

// udpDatagram is one queued datagram, and what to do once it is sent
// (or failed to be): sent is called by the flusher and must not block.
type udpDatagram struct {
	b    []byte
	dst  netip.AddrPort
	sent func(err error)
}

// newUDPOut sends on conn, or returns nil when conn is no *net.UDPConn.
func newUDPOut(conn net.PacketConn) *udpOut {
	uc, ok := conn.(*net.UDPConn)
	if !ok {
		return nil
	}
	o := &udpOut{
		msgs:  make([]ipv4.Message, udpBatchMax),
		addrs: make([]net.UDPAddr, udpBatchMax),
		ips:   make([][16]byte, udpBatchMax),
	}
	for i := range o.msgs {
		o.msgs[i].Buffers = make([][]byte, 1)
	}
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP != nil && a.IP.To4() == nil {
		o.write = ipv6.NewPacketConn(uc).WriteBatch
	} else {
		o.write = ipv4.NewPacketConn(uc).WriteBatch
	}
	return o
}

// queue has d sent at the next flush.
func (o *udpOut) queue(d udpDatagram) {
	o.mu.Lock()
	o.pending = append(o.pending, d)
	o.mu.Unlock()
}

// flush sends everything queued.
func (o *udpOut) flush() {
	o.flushing.Lock()
	defer o.flushing.Unlock()
	o.mu.Lock()
	batch := o.pending
	o.pending = o.sending[:0]
	o.mu.Unlock()
	for i := 0; i < len(batch); i += udpBatchMax {
		o.send(batch[i:min(i+udpBatchMax, len(batch))])
	}
	clear(batch)
	o.sending = batch[:0]
}

// send writes ds (at most udpBatchMax) and tells each how it went. A
// datagram the kernel refuses is skipped, as a failed sendto would be.
func (o *udpOut) send(ds []udpDatagram) {
	for i, d := range ds {
		a := d.dst.Addr()
		o.ips[i] = a.As16()
		ip := o.ips[i][:]
		if a.Is4() {
			ip = ip[12:]
		}
		o.addrs[i] = net.UDPAddr{IP: ip, Port: int(d.dst.Port()), Zone: a.Zone()}
		o.msgs[i].Buffers[0] = d.b
		o.msgs[i].Addr = &o.addrs[i]
	}
	for done := 0; done < len(ds); {
		n, err := o.write(o.msgs[done:len(ds)], 0)
		if n <= 0 && err == nil {
			err = errShortBatch
		}
		n = max(n, 0)
		for _, d := range ds[done : done+n] {
			if d.sent != nil {
				d.sent(nil)
			}
		}
		done += n
		if err != nil {
			if d := ds[done]; d.sent != nil {
				d.sent(err)
			}
			done++
		}
	}
	for i := range ds {
		o.msgs[i].Buffers[0], o.msgs[i].Addr = nil, nil
	}
}
