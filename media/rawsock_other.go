//go:build unix && !(linux && (amd64 || arm64))

package media

import (
	"net"
	"net/netip"
	"syscall"
	"time"
)

// rawSocket is rawsock_linux.go's, done with net.UDPConn: reads are still
// non-blocking, a datagram a call, and the socket is in Go's poller.
type rawSocket struct {
	conn *net.UDPConn
	raw  syscall.RawConn
}

type readBatch struct {
	buf [2048]byte
}

const batchSize = 8

func bindRTP(ip netip.Addr, port int) (*PortLease, error) {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
	if err != nil {
		return nil, err
	}
	return &PortLease{conn: conn, fd: -1, port: port}, nil
}

func (s *rawSocket) init(l *PortLease) {
	s.conn = l.conn
	s.raw, _ = l.conn.SyscallConn()
}

func (s *rawSocket) readBatch(b *readBatch, each func(b []byte, src netip.AddrPort)) int {
	for i := range batchSize {
		var n int
		var src netip.AddrPort
		ok := false
		err := s.raw.Read(func(fd uintptr) bool {
			m, from, err := syscall.Recvfrom(int(fd), b.buf[:], 0)
			if err != nil {
				return true // nothing waiting: a poll does not wait
			}
			switch a := from.(type) {
			case *syscall.SockaddrInet4:
				n, src, ok = m, netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
			case *syscall.SockaddrInet6:
				n, src, ok = m, netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), true
			}
			return true
		})
		if err != nil || !ok {
			return i
		}
		each(b.buf[:n], src)
	}
	return batchSize
}

func (s *rawSocket) wait(d time.Duration) bool {
	s.conn.SetReadDeadline(time.Now().Add(d))
	defer s.conn.SetReadDeadline(time.Time{})
	calls := 0
	err := s.raw.Read(func(uintptr) bool { calls++; return calls > 1 })
	return err == nil
}

func (s *rawSocket) writeTo(b []byte, dst netip.AddrPort) bool {
	_, err := s.conn.WriteToUDPAddrPort(b, dst)
	return err == nil
}
