//go:build linux

package media

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BenchmarkSendSyscall is what one 172-byte RTP packet costs to send on
// loopback, one sendto per packet (what per-call ports allow) against
// sendmmsg batches through one socket (what a shared port would allow):
// it tells how much batching across calls could save at best.
func BenchmarkSendSyscall(b *testing.B) {
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	dst := sink.LocalAddr().(*net.UDPAddr).AddrPort()
	src, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, 0)))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	pkt := make([]byte, 172)
	b.Run("sendto", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			src.WriteToUDPAddrPort(pkt, dst)
		}
	})
	for _, batch := range []int{16, 64} {
		b.Run(fmt.Sprintf("sendmmsg=%d", batch), func(b *testing.B) {
			type mmsghdr struct {
				hdr syscall.Msghdr
				n   uint32
				_   [4]byte
			}
			sa := syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: dst.Addr().As4()}
			sa.Port = dst.Port()>>8 | dst.Port()<<8
			iov := syscall.Iovec{Base: &pkt[0]}
			iov.SetLen(len(pkt))
			msgs := make([]mmsghdr, batch)
			for i := range msgs {
				msgs[i].hdr.Name = (*byte)(unsafe.Pointer(&sa))
				msgs[i].hdr.Namelen = syscall.SizeofSockaddrInet4
				msgs[i].hdr.Iov = &iov
				msgs[i].hdr.Iovlen = 1
			}
			rc, _ := src.SyscallConn()
			var sent uintptr
			var errno syscall.Errno
			send := func(fd uintptr) bool {
				sent, _, errno = syscall.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&msgs[0])), uintptr(batch), 0, 0, 0)
				return true
			}
			defer reportCPU(b)()
			n := 0
			for b.Loop() {
				if n%batch == 0 {
					rc.Write(send)
					if errno != 0 || int(sent) != batch {
						b.Fatalf("sendmmsg sent %d of %d: %v", sent, batch, errno)
					}
				}
				n++
			}
		})
	}
}

// reportCPU reports the process's CPU per op when the returned function
// runs: unlike ns/op, it leaves out the time other processes on a busy
// box held the core.
func reportCPU(b *testing.B) func() {
	before := processCPU()
	return func() {
		b.ReportMetric(float64(processCPU()-before)/float64(b.N), "cpu-ns/op")
	}
}
