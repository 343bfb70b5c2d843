package media

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// udpSocket is a non-blocking UDP socket that Go's network poller does
// not watch: a session's datagrams are read by an rxLoop's epoll instead
// (see rxloop_linux.go). Had the socket been a net.UDPConn, every
// datagram would also wake the runtime's poller for nobody, 50 times a
// second per call.
//
// Reads and writes are raw system calls: on a non-blocking socket they
// never wait, so the runtime need not hand the processor to another
// thread around them.
type udpSocket struct {
	fd int
	v6 bool
}

func bindUDP(ap netip.AddrPort) (*udpSocket, error) {
	ip := ap.Addr().Unmap()
	family := unix.AF_INET
	if ip.Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	var sa unix.Sockaddr
	if ip.Is6() {
		sa = &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ip.As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ip.As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &udpSocket{fd: fd, v6: ip.Is6()}, nil
}

func (u *udpSocket) close() error { return unix.Close(u.fd) }

// errWouldBlock is what recv returns once the socket has nothing queued.
var errWouldBlock = unix.EAGAIN

// recv reads one queued datagram without allocating; errWouldBlock when
// none is queued.
func (u *udpSocket) recv(b []byte) (int, netip.AddrPort, error) {
	var from unix.RawSockaddrAny
	fromLen := uint32(unix.SizeofSockaddrAny)
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	n, _, errno := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(u.fd), uintptr(p), uintptr(len(b)), 0,
		uintptr(unsafe.Pointer(&from)), uintptr(unsafe.Pointer(&fromLen)))
	if errno != 0 {
		return 0, netip.AddrPort{}, errno
	}
	return int(n), fromRaw(&from), nil
}

func fromRaw(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), ntohs(in.Port))
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(in.Addr).Unmap(), ntohs(in.Port))
	}
	return netip.AddrPort{}
}

// rawDest is a destination in the kernel's form, built once per peer
// address rather than once per packet.
type rawDest struct {
	ap  netip.AddrPort
	sa  unix.RawSockaddrInet6 // large enough for either family
	len uint32
}

// set makes d address ap from a socket of the given family; false if the
// families cannot meet (an IPv6 peer from an IPv4 socket).
func (d *rawDest) set(ap netip.AddrPort, v6 bool) bool {
	if d.ap == ap && d.len != 0 {
		return true
	}
	d.ap, d.len = ap, 0
	ip := ap.Addr()
	switch {
	case v6:
		d.sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(ap.Port()), Addr: ip.As16()}
		d.len = unix.SizeofSockaddrInet6
	case ip.Unmap().Is4():
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(&d.sa))
		*in = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(ap.Port()), Addr: ip.Unmap().As4()}
		d.len = unix.SizeofSockaddrInet4
	default:
		return false
	}
	return true
}

// sendTo writes one datagram to d. A full socket buffer drops it, as the
// network would: RTP is best effort and a pacer must never wait.
func (u *udpSocket) sendTo(b []byte, d *rawDest) error {
	var p unsafe.Pointer
	if len(b) > 0 {
		p = unsafe.Pointer(&b[0])
	}
	_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(u.fd), uintptr(p), uintptr(len(b)), 0,
		uintptr(unsafe.Pointer(&d.sa)), uintptr(d.len))
	if errno != 0 {
		return errno
	}
	return nil
}

// Ports in socket addresses are in network byte order whatever the host's.
func htons(p uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], p)
	return *(*uint16)(unsafe.Pointer(&b[0]))
}

func ntohs(p uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:]) }
