package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	healthcheckTimeout = 2 * time.Second
	// RFC 3261 Timer E starts at T1 = 500 ms: one lost datagram should not
	// fail a check that still has time to retry.
	healthcheckRetransmit = 500 * time.Millisecond
)

func (c *cli) healthcheck(cmd *command, args []string) error {
	fs := newFlagSet(cmd)
	addr := fs.String("sip-addr", envOrDefault("DESKPBX_SIP_ADDR", ":5060"), "SIP `HOST:PORT` the PBX listens on (env DESKPBX_SIP_ADDR); an empty or unspecified host means loopback")
	if err := c.parse(fs, cmd, args, 0, 0); err != nil {
		return err
	}
	target, err := healthcheckTarget(*addr)
	if err != nil {
		return usagef("%s: %v", cmd.name, err)
	}
	status, err := sipOptions(target, healthcheckTimeout)
	if err != nil {
		return fmt.Errorf("healthcheck: %s: %w", target, err)
	}
	fmt.Fprintf(c.stdout, "%s answered %s\n", target, status)
	return nil
}

// healthcheckTarget turns the server's listen address (":5060",
// "0.0.0.0:5060") into one a client can send to.
func healthcheckTarget(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-sip-addr %q: %v", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("-sip-addr %q: port must be 1-65535", addr)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// sipOptions sends an OPTIONS over UDP and waits for a final response to
// it. A 2xx returns its status line; anything else is an error.
func sipOptions(target string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	conn, err := net.DialTimeout("udp", target, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	callID := randomToken() + "@deskpbx-healthcheck"
	req := optionsRequest(target, conn.LocalAddr().String(), callID)

	buf := make([]byte, 65535)
	for next := time.Now(); ; {
		if !time.Now().Before(deadline) {
			return "", fmt.Errorf("no answer to OPTIONS within %v", timeout)
		}
		if !time.Now().Before(next) {
			if _, err := conn.Write(req); err != nil {
				return "", err
			}
			next = time.Now().Add(healthcheckRetransmit)
		}
		conn.SetReadDeadline(minTime(next, deadline))
		n, err := conn.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, syscall.ECONNREFUSED) {
				return "", errors.New("nothing is listening (ICMP port unreachable)")
			}
			return "", err
		}
		code, status, ok := parseResponse(buf[:n], callID)
		switch {
		case !ok, code < 200:
			// Not ours, or provisional: keep waiting for the final answer.
			continue
		case code < 300:
			return status, nil
		default:
			return "", fmt.Errorf("answered %s", status)
		}
	}
}

func optionsRequest(target, local, callID string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "OPTIONS sip:%s SIP/2.0\r\n", target)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n", local, randomToken())
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:healthcheck@%s>;tag=%s\r\n", local, randomToken())
	fmt.Fprintf(&b, "To: <sip:%s>\r\n", target)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	b.WriteString("CSeq: 1 OPTIONS\r\n")
	fmt.Fprintf(&b, "Contact: <sip:healthcheck@%s>\r\n", local)
	b.WriteString("Accept: application/sdp\r\n")
	b.WriteString("User-Agent: deskpbx-healthcheck\r\n")
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// parseResponse returns the status of msg if it is a SIP response to the
// request with callID.
func parseResponse(msg []byte, callID string) (code int, status string, ok bool) {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(msg)))
	first, err := tp.ReadLine()
	if err != nil {
		return 0, "", false
	}
	proto, rest, _ := strings.Cut(first, " ")
	if proto != "SIP/2.0" || len(rest) < 3 {
		return 0, "", false
	}
	code, err = strconv.Atoi(rest[:3])
	if err != nil || code < 100 || code > 699 {
		return 0, "", false
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && len(hdr) == 0 {
		return 0, "", false
	}
	got := hdr.Get("Call-Id")
	if got == "" {
		got = hdr.Get("I") // compact form, RFC 3261 §7.3.3
	}
	if strings.TrimSpace(got) != callID {
		return 0, "", false
	}
	return code, rest, true
}

func randomToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
