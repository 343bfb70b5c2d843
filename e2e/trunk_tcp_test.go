package e2e

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"deskpbx/internal/testphone"
)

// freeUDPTCPPortOn is a port free on ip for both UDP and TCP right now.
func freeUDPTCPPortOn(t *testing.T, ip string) int {
	t.Helper()
	for range 100 {
		port := freePortOn(t, ip)
		if l, err := net.Listen("tcp4", ip+":"+strconv.Itoa(port)); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no port free for UDP and TCP on " + ip)
	return 0
}

// A trunk added with -transport tcp talks to its provider (Kamailio
// listening on TCP) over TCP only: it registers, a call out reaches the
// outside callee, and a customer's call to a DID comes back over TCP to
// the registered Contact and rings the phone.
func TestTrunkOverTCPThroughKamailio(t *testing.T) {
	requireSIPp(t)
	kamBin := requireKamailio(t)
	const password = "Trunk-Tcp-9"

	p := newPBX(t, "acme.example")
	p.addExt("acme.example", "1001", "secret-1001")
	kport, calleePort := freeUDPTCPPortOn(t, providerIP), freePortOn(t, providerIP)
	p.cli("trunk", "add", "-db", p.db, "-host", providerIP+":"+strconv.Itoa(kport), "-transport", "tcp", "-username", "acme",
		"-password", password, "-register", "-from-domain", "provider.test", "acme.example", "main")
	p.cli("did", "add", "-db", p.db, "acme.example", "+15550101", "1001")
	p.cli("tenant", "set", "-db", p.db, "-main-number", "+15550100", "-national-prefix", "+1", "acme.example")
	kam := startKamailio(t, kamBin, kport, map[string]string{"PASSWORD": password, "EXPIRES": "60",
		"PBXIP": "127.0.0.1", "CALLEE": providerIP + ":" + strconv.Itoa(calleePort),
		"LISTEN_TCP": "tcp:" + providerIP + ":" + strconv.Itoa(kport)})
	p.start()
	kamLog := func() string { b, _ := os.ReadFile(kam.log); return string(b) }

	waitUntil(t, 60*time.Second, "the trunk registered over TCP", func() bool {
		return strings.Contains(kamLog(), "provider: REGISTER over tcp from 127.0.0.1") &&
			strings.Contains(p.cli("trunk", "list", "-db", p.db), " registered")
	})
	if strings.Contains(kamLog(), "provider: REGISTER over udp") {
		t.Fatal("the TCP trunk registered over UDP")
	}

	phone := testphone.New(t, p.sipAddr, "1001", "acme.example", "secret-1001")
	phone.Register()
	callee, _ := startOutsideCallee(t, calleePort, 1)

	t.Run("a call out goes over TCP", func(t *testing.T) {
		m := testphone.NewMedia(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		call, err := phone.DialFeature(ctx, "+15557001", m)
		if err != nil {
			t.Fatalf("call out: %v", err)
		}
		if !strings.Contains(kamLog(), "provider: call out over tcp from 127.0.0.1 to +15557001") {
			t.Fatalf("the provider did not get the call over TCP:\n%s", tail([]byte(kamLog()), 4<<10))
		}
		if err := call.Bye(ctx); err != nil {
			t.Fatal(err)
		}
		callee.wait(1)
	})

	t.Run("a customer's call to the DID comes in over TCP", func(t *testing.T) {
		callDIDFromOutside(t, kport, "+15550101", phone)
		if !strings.Contains(kamLog(), "provider: call in to the trunk at sip:acme@") || !strings.Contains(kamLog(), "transport=tcp") {
			t.Fatalf("the call in was not sent to the trunk's TCP Contact:\n%s", tail([]byte(kamLog()), 4<<10))
		}
	})
}
