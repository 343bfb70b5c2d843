package main

import (
	"bytes"
	"net"
	"strings"
	"testing"
)

// freeUDPPort returns a 127.0.0.1 port that nothing listens on.
func freeUDPPort(t *testing.T) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(c.LocalAddr().String())
	c.Close()
	return port
}

// fakePBX answers every OPTIONS on 127.0.0.1 with status, echoing the
// headers a response must copy, until the test ends.
func fakePBX(t *testing.T, status string) string {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { c.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65535)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			var resp bytes.Buffer
			resp.WriteString("SIP/2.0 " + status + "\r\n")
			for _, line := range strings.Split(string(buf[:n]), "\r\n") {
				for _, h := range []string{"Via:", "From:", "To:", "Call-ID:", "CSeq:"} {
					if strings.HasPrefix(line, h) {
						resp.WriteString(line + "\r\n")
					}
				}
			}
			resp.WriteString("Content-Length: 0\r\n\r\n")
			c.WriteTo(resp.Bytes(), from)
		}
	}()
	_, port, _ := net.SplitHostPort(c.LocalAddr().String())
	return port
}

func TestHealthcheckFailsWhenNothingListens(t *testing.T) {
	t.Parallel()
	addr := "127.0.0.1:" + freeUDPPort(t)
	deskpbx(t, "healthcheck", "-sip-addr", addr).mustFail(t, "healthcheck", 1, "healthcheck: "+addr)
}

func TestHealthcheckPassesWhenThePBXAnswers(t *testing.T) {
	t.Parallel()
	port := fakePBX(t, "200 OK")
	// The server's own listen addresses: an empty or unspecified host
	// must be checked on loopback.
	for _, addr := range []string{"127.0.0.1:" + port, ":" + port, "0.0.0.0:" + port} {
		r := deskpbx(t, "healthcheck", "-sip-addr", addr).mustSucceed(t, "healthcheck "+addr)
		if !strings.Contains(r.stdout, "answered 200 OK") {
			t.Errorf("healthcheck %s said %q", addr, r.stdout)
		}
	}
	env := invocation{env: []string{"DESKPBX_SIP_ADDR=:" + port}}
	env.run(t, "healthcheck").mustSucceed(t, "healthcheck with DESKPBX_SIP_ADDR")
}

func TestHealthcheckFailsOnAnErrorResponse(t *testing.T) {
	t.Parallel()
	port := fakePBX(t, "503 Service Unavailable")
	deskpbx(t, "healthcheck", "-sip-addr", "127.0.0.1:"+port).mustFail(t, "healthcheck", 1, "answered 503 Service Unavailable")
}
