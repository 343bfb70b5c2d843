//go:build linux && (amd64 || arm64)

package media

import (
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawSocket is a session's RTP socket, opened and used with raw system
// calls, outside Go's network poller:
//   - Go's poller would register it with epoll, and every datagram would
//     then wake a thread of ours blocked in epoll_wait only to find no
//     goroutine waiting for it (the pollers read the socket on their
//     own clock): at 2,000 calls, 100,000 futile wake-ups a second.
//   - A pacer's sendto must not let go of its P: through net.UDPConn a
//     send is a blocking system call to the scheduler, and one that
//     outlasts sysmon's 20 µs on a busy box has its P handed to another
//     goroutine, the pacer then queueing for a P again for milliseconds
//     with the rest of its slot unsent. A UDP send or receive on a
//     non-blocking socket never blocks, so raw calls are safe.
//
// The descriptor stays valid while used: Close takes the session off its
// poller, waits for a flood's reader and stops the sender before the
// lease closes it, so no call can reach a number reused by another file.
type rawSocket struct {
	fd     int
	family int

	// send's, guarded by the session's sender lock.
	to4 syscall.RawSockaddrInet4
	to6 syscall.RawSockaddrInet6
}

// readBatch is where one recvmmsg puts its datagrams: a poller's,
// reused for every socket it reads.
type readBatch struct {
	bufs  [batchSize][2048]byte
	addrs [batchSize]syscall.RawSockaddrAny
	iovs  [batchSize]syscall.Iovec
	hdrs  [batchSize]mmsghdr
	wired bool // the headers point at bufs and addrs
}

// batchSize is how many datagrams one recvmmsg takes: a phone sends one
// or two a frame, so one call finds them all and tells that none is left.
const batchSize = 8

type mmsghdr struct {
	hdr syscall.Msghdr
	n   uint32
	_   [4]byte
}

// bindRTP opens a non-blocking UDP socket on ip:port: IPv4, or IPv6
// taking IPv4 too when ip is "::" or not given, as net.ListenUDP does.
func bindRTP(ip netip.Addr, port int) (*PortLease, error) {
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	}
	var family int
	var sa syscall.Sockaddr
	if ip.Is4() || ip.Is4In6() {
		family, sa = syscall.AF_INET, &syscall.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}
	} else {
		family, sa = syscall.AF_INET6, &syscall.SockaddrInet6{Port: port, Addr: ip.As16()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.IPPROTO_UDP)
	if err != nil {
		return nil, err
	}
	if family == syscall.AF_INET6 && ip.IsUnspecified() {
		err = syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 0)
	}
	if err == nil {
		err = syscall.Bind(fd, sa)
	}
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &PortLease{fd: fd, family: family, port: port}, nil
}

func (s *rawSocket) init(l *PortLease) { s.fd, s.family = l.fd, l.family }

// readBatch reads what waits on the socket, up to batchSize datagrams,
// without waiting, calls each with them in order, and returns how many
// there were.
func (s *rawSocket) readBatch(b *readBatch, each func(b []byte, src netip.AddrPort)) int {
	if !b.wired {
		for i := range b.hdrs {
			b.iovs[i].Base = &b.bufs[i][0]
			b.iovs[i].SetLen(len(b.bufs[i]))
			h := &b.hdrs[i].hdr
			h.Name = (*byte)(unsafe.Pointer(&b.addrs[i]))
			h.Iov = &b.iovs[i]
			h.Iovlen = 1
		}
		b.wired = true
	}
	for i := range b.hdrs {
		b.hdrs[i].hdr.Namelen = uint32(unsafe.Sizeof(b.addrs[i])) // the kernel writes back the length it used
	}
	n, _, errno := syscall.RawSyscall6(syscall.SYS_RECVMMSG, uintptr(s.fd),
		uintptr(unsafe.Pointer(&b.hdrs[0])), batchSize, syscall.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0 // EAGAIN: nothing waiting; anything else (an ICMP report): next time
	}
	for i := range int(n) {
		if src, ok := sockaddrPort(&b.addrs[i]); ok {
			each(b.bufs[i][:b.hdrs[i].n], src)
		}
	}
	return int(n)
}

// wait blocks until a datagram waits or d has passed, and reports which.
// Only a flood's reader waits; it runs on a thread of its own meanwhile.
func (s *rawSocket) wait(d time.Duration) bool {
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(d/time.Millisecond))
	return err == nil && n > 0
}

// writeTo sends b to dst; a send the kernel refuses is dropped, as RTP
// is: never wait for room, a frame late is worse than one lost.
func (s *rawSocket) writeTo(b []byte, dst netip.AddrPort) bool {
	var to unsafe.Pointer
	var tolen uintptr
	switch {
	case s.family == syscall.AF_INET && dst.Addr().Unmap().Is4():
		s.to4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Port: htons(dst.Port()), Addr: dst.Addr().Unmap().As4()}
		to, tolen = unsafe.Pointer(&s.to4), syscall.SizeofSockaddrInet4
	case s.family == syscall.AF_INET6:
		s.to6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Port: htons(dst.Port()), Addr: dst.Addr().As16()}
		to, tolen = unsafe.Pointer(&s.to6), syscall.SizeofSockaddrInet6
	default:
		return false // an IPv6 peer on an IPv4 socket
	}
	_, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(s.fd),
		uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), 0, uintptr(to), tolen)
	return errno == 0
}

func sockaddrPort(a *syscall.RawSockaddrAny) (netip.AddrPort, bool) {
	switch a.Addr.Family {
	case syscall.AF_INET:
		sa := (*syscall.RawSockaddrInet4)(unsafe.Pointer(a))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), htons(sa.Port)), true
	case syscall.AF_INET6:
		sa := (*syscall.RawSockaddrInet6)(unsafe.Pointer(a))
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), htons(sa.Port)), true
	}
	return netip.AddrPort{}, false
}

// htons swaps a port between host and network order (both ways).
func htons(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
