package e2e

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"deskpbx/internal/rtppcap"
)

// Helpers for the tests with media: DTMF pcaps for SIPp, WAV files for
// baresip, reading deskpbx's log records, counting what a socket got.

// dtmfPcap writes a pcap for SIPp's play_pcap_audio keying digits, either
// as RFC 4733 events (payload type 101, with PCMU silence between them
// like a real phone) or as in-band PCMU tones. A short lead-in of silence
// lets the PBX latch onto the stream before the first key.
func dtmfPcap(t *testing.T, dir, name, digits string, inband bool) string {
	t.Helper()
	var pkts []rtppcap.Packet
	var err error
	lead := rtppcap.WithLeadIn(200 * time.Millisecond)
	if inband {
		pkts, err = rtppcap.InbandDigits(digits, rtppcap.PCMU, -10, lead)
	} else {
		pkts, err = rtppcap.RFC4733Digits(digits, 101, rtppcap.WithAudio(rtppcap.PCMU), lead)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	// SIPp keeps only the payload and the timing: the addresses are dummies.
	src, dst := netip.MustParseAddrPort("192.0.2.1:6000"), netip.MustParseAddrPort("192.0.2.2:6000")
	if err := rtppcap.WriteFile(path, src, dst, pkts); err != nil {
		t.Fatal(err)
	}
	return path
}

// logPath is the current deskpbx server's log file.
func (p *pbx) logPath() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs[len(p.logs)-1]
}

// logRecords returns the attributes of every record with message msg in
// the current server's log (slog text format: key=value or key="quoted").
func (p *pbx) logRecords(msg string) []map[string]string {
	f, err := os.Open(p.logPath())
	if err != nil {
		p.t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		rec := parseSlog(sc.Text())
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// waitRecord waits until the log has a record with message msg whose
// attributes include every key=value in want, and returns it.
func (p *pbx) waitRecord(timeout time.Duration, msg string, want map[string]string) map[string]string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
	recs:
		for _, r := range p.logRecords(msg) {
			for k, v := range want {
				if r[k] != v {
					continue recs
				}
			}
			return r
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deskpbx logged no %q record with %v within %v; records with that message: %v",
				msg, want, timeout, p.logRecords(msg))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// parseSlog splits one slog text line into its attributes.
func parseSlog(line string) map[string]string {
	rec := map[string]string{}
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			break
		}
		key := line[:eq]
		line = line[eq+1:]
		var val string
		if strings.HasPrefix(line, `"`) {
			// Quoted with strconv.Quote: find the closing quote.
			end := 1
			for end < len(line) && line[end] != '"' {
				if line[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(line) {
				break
			}
			if v, err := strconv.Unquote(line[:end+1]); err == nil {
				val = v
			}
			line = line[end+1:]
		} else {
			sp := strings.IndexByte(line, ' ')
			if sp < 0 {
				sp = len(line)
			}
			val, line = line[:sp], line[sp:]
		}
		rec[key] = val
	}
	return rec
}

// udpQueue is what piled up in a UDP socket nobody reads, from
// /proc/net/udp: SIPp without -rtp_echo binds its -mp port and never reads
// it, so the PBX's prompts stay there (or are dropped once it is full).
type udpQueue struct {
	seen    bool   // the socket was there at some poll
	maxRx   uint64 // largest receive queue seen, bytes
	drops   uint64 // datagrams dropped because the queue was full
	samples int
}

func (q udpQueue) String() string {
	return fmt.Sprintf("socket seen %v, up to %d bytes queued, %d datagrams dropped (%d polls)", q.seen, q.maxRx, q.drops, q.samples)
}

// watchUDP polls /proc/net/udp every 50 ms for the socket bound to
// 127.0.0.1:port until stop is called (or for 5 minutes at most).
func watchUDP(port int) (stop func() udpQueue) {
	var (
		mu   sync.Mutex
		q    udpQueue
		quit = make(chan struct{})
		done = make(chan struct{})
	)
	want := fmt.Sprintf("0100007F:%04X", port)
	poll := func() {
		b, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		q.samples++
		for _, l := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(l)
			if len(f) < 13 || f[1] != want {
				continue
			}
			q.seen = true
			if _, rx, ok := strings.Cut(f[4], ":"); ok {
				if v, err := strconv.ParseUint(rx, 16, 64); err == nil && v > q.maxRx {
					q.maxRx = v
				}
			}
			if v, err := strconv.ParseUint(f[12], 10, 64); err == nil && v > q.drops {
				q.drops = v
			}
		}
	}
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		limit := time.After(5 * time.Minute)
		for {
			poll()
			select {
			case <-quit:
				return
			case <-limit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() udpQueue {
		close(quit)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return q
	}
}

// writeWAV writes 16-bit mono PCM at 8 kHz: secs seconds of a sine of
// freq Hz at level dBFS, or of silence when freq is 0.
func writeWAV(t *testing.T, path string, freq, level float64, secs int) {
	t.Helper()
	const rate = 8000
	n := secs * rate
	b := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1) // PCM
	le.PutUint16(b[22:], 1) // mono
	le.PutUint32(b[24:], rate)
	le.PutUint32(b[28:], rate*2)
	le.PutUint16(b[32:], 2)
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	amp := 32767 * math.Pow(10, level/20)
	if freq > 0 {
		for i := range n {
			v := amp * math.Sin(2*math.Pi*freq*float64(i)/rate)
			le.PutUint16(b[44+2*i:], uint16(int16(math.Round(v))))
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readWAV reads 16-bit mono PCM from a WAV file, also one still being
// written (whose header sizes are not final): everything after the data
// chunk's header up to the end of the file.
func readWAV(path string) (samples []int16, rate int, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%s: not a WAV file", filepath.Base(path))
	}
	le := binary.LittleEndian
	off := 12
	for off+8 <= len(b) {
		id, size := string(b[off:off+4]), int(le.Uint32(b[off+4:]))
		body := b[off+8:]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, 0, fmt.Errorf("%s: short fmt chunk", filepath.Base(path))
			}
			if format, ch, bits := le.Uint16(body[0:]), le.Uint16(body[2:]), le.Uint16(body[14:]); format != 1 || ch != 1 || bits != 16 {
				return nil, 0, fmt.Errorf("%s: format %d, %d channels, %d bits: want 16-bit mono PCM", filepath.Base(path), format, ch, bits)
			}
			rate = int(le.Uint32(body[4:]))
		case "data":
			if rate == 0 {
				return nil, 0, fmt.Errorf("%s: data before fmt", filepath.Base(path))
			}
			n := len(body) / 2
			samples = make([]int16, n)
			for i := range n {
				samples[i] = int16(le.Uint16(body[2*i:]))
			}
			return samples, rate, nil
		}
		off += 8 + size + size&1
	}
	return nil, 0, fmt.Errorf("%s: no data chunk (yet)", filepath.Base(path))
}

// toneBlocks cuts samples into 20 ms blocks and counts those in which a
// sine of freq Hz carries most of the energy (Goertzel power over half
// the block's energy) above a floor of about -50 dBFS; silence and speech
// do not count. It also returns the number of blocks.
func toneBlocks(samples []int16, rate int, freq float64) (tone, blocks int) {
	n := rate / 50
	k := 2 * math.Cos(2*math.Pi*freq/float64(rate))
	for i := 0; i+n <= len(samples); i += n {
		var s1, s2, e float64
		for _, v := range samples[i : i+n] {
			x := float64(v)
			e += x * x
			s1, s2 = x+k*s1-s2, s1
		}
		blocks++
		if e/float64(n) < 100*100 {
			continue
		}
		power := (s1*s1 + s2*s2 - k*s1*s2) * 2 / float64(n)
		if power > e/2 {
			tone++
		}
	}
	return tone, blocks
}
