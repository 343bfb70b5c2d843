package sip

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// deskpbx patch: udpReadBatch datagrams are read per system call
// (recvmmsg on Linux, one at a time elsewhere): under a registration
// storm a recvfrom per datagram, with its trip through the poller, was a
// tenth of the reading goroutine's time.
const udpReadBatch = 16

// udpBatchReader hands out the datagrams of one batched read one by one.
// Each has its own buffer, valid until the batch after next is read.
type udpBatchReader struct {
	read func([]ipv4.Message, int) (int, error)
	msgs []ipv4.Message
	n, i int
}

// newUDPBatchReader reads pc in batches, or returns nil when pc is no
// *net.UDPConn (then it is read one datagram at a time).
func newUDPBatchReader(pc net.PacketConn) *udpBatchReader {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return nil
	}
	r := &udpBatchReader{msgs: make([]ipv4.Message, udpReadBatch)}
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{make([]byte, TransportBufferReadSize)}
	}
	if a, ok := uc.LocalAddr().(*net.UDPAddr); ok && a.IP != nil && a.IP.To4() == nil {
		r.read = ipv6.NewPacketConn(uc).ReadBatch
	} else {
		r.read = ipv4.NewPacketConn(uc).ReadBatch
	}
	return r
}

// next returns the next datagram: its buffer, length and sender.
func (r *udpBatchReader) next() ([]byte, int, net.Addr, error) {
	for r.i >= r.n {
		n, err := r.read(r.msgs, 0)
		if err != nil {
			return nil, 0, nil, err
		}
		r.n, r.i = n, 0
	}
	m := &r.msgs[r.i]
	r.i++
	return m.Buffers[0], m.N, m.Addr, nil
}

// drained reports whether every datagram of the last batch was handed out.
func (r *udpBatchReader) drained() bool { return r.i >= r.n }
