package pbx

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"deskpbx/store"
)

// BenchmarkRegisterUDP is the registrar under a registration storm as
// scripts/bench.sh makes one, without SIPp: per op, one whole digest
// registration over loopback UDP (REGISTER, 401, REGISTER with
// credentials, 200 once the binding is committed), 64 in flight from
// one socket, written by hand as raw datagrams. The client's own work
// (a digest per registration) is in the figures, the same before and
// after any change to the server.
func BenchmarkRegisterUDP(b *testing.B) {
	const inflight = 64
	db, err := store.Open(filepath.Join(b.TempDir(), "deskpbx.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.CreateTenant(ctx, "acme.example", "", false); err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreateExtension(ctx, store.NewExtension{Domain: "acme.example", Number: "1001", Password: "pw-1001-x"}); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{DB: db, Log: testLogger(), SIPAddr: "127.0.0.1:0", RTPPorts: [2]int{30000, 30999}})
	if err != nil {
		b.Fatal(err)
	}
	srv.SetDialPlan(OfficeDialPlan(db, nil))
	if err := srv.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	pbx, err := net.ResolveUDPAddr("udp4", srv.SIPAddr())
	if err != nil {
		b.Fatal(err)
	}
	me := conn.LocalAddr().String()
	register := func(id, cseq int, auth string) {
		n := strconv.Itoa(id)
		msg := "REGISTER sip:acme.example SIP/2.0\r\nVia: SIP/2.0/UDP " + me + ";branch=z9hG4bK-bench-" + n + "-" + strconv.Itoa(cseq) + ";rport\r\n" +
			"From: <sip:1001@acme.example>;tag=bench" + n + "\r\nTo: <sip:1001@acme.example>\r\nCall-ID: bench-" + n + "\r\n" +
			"CSeq: " + strconv.Itoa(cseq) + " REGISTER\r\nContact: <sip:1001@" + me + ">\r\n"
		if auth != "" {
			msg += auth + "\r\n"
		}
		msg += "Expires: 3600\r\nMax-Forwards: 70\r\nUser-Agent: bench\r\nContent-Length: 0\r\n\r\n"
		if _, err := conn.WriteToUDP([]byte(msg), pbx); err != nil {
			b.Fatal(err)
		}
	}
	// field is the value of the first "name" in msg up to the end byte.
	field := func(msg []byte, name string, end byte) string {
		i := bytes.Index(msg, []byte(name))
		if i < 0 {
			b.Fatalf("no %q in\n%s", name, msg)
		}
		v := msg[i+len(name):]
		return string(v[:bytes.IndexByte(v, end)])
	}
	buf := make([]byte, 65536)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, sw0 := cpuTime(b)
	started, done := 0, 0
	for ; started < min(inflight, b.N); started++ {
		register(started, 1, "")
	}
	for done < b.N {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			b.Fatalf("after %d registrations: %v", done, err)
		}
		msg := buf[:n]
		id, _ := strconv.Atoi(field(msg, "Call-ID: bench-", '\r'))
		switch code := string(msg[8:11]); code {
		case "401":
			nonce := field(msg, `nonce="`, '"')
			register(id, 2, digestHeader("Authorization", "1001", "acme.example", "pw-1001-x", nonce, "REGISTER", "sip:acme.example"))
		case "200":
			done++
			if started < b.N {
				register(started, 1, "")
				started++
			}
		default:
			b.Fatalf("registration %d answered %s:\n%s", id, code, msg)
		}
	}
	// The process's CPU, the client's included, which waiting on the
	// other helpers of a shared machine does not inflate as ns/op.
	cpu1, sw1 := cpuTime(b)
	b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	// Context switches: each a goroutine handing work to another that
	// was parked, or a thread giving up the CPU.
	b.ReportMetric(float64(sw1-sw0)/float64(b.N), "ctxsw/op")
}

// cpuTime is the user and system CPU the process has used, and its
// context switches.
func cpuTime(b *testing.B) (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw + ru.Nivcsw
}
