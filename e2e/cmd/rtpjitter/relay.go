package main

// -relay: what a media relay adds. A relay forwards each packet the
// moment it reads it, so its pacing is its senders' pacing (SIPp's,
// here) plus its own delay; only the delay is the relay's doing. From a
// capture on lo of both directions of every relayed call (every UDP
// packet to or from the relay's port range, e.g. dumpcap -f "udp
// portrange LO-HI"), each packet the relay sent from port Q is matched
// with the same packet (SSRC and sequence number, unchanged by a relay)
// arriving at the relay's other port P of that call, and its delay is
// its send time minus its arrival time; late if over -late. On lo the
// capture time of a packet is its send time, so the arrival is when the
// party sent it: the delay is the relay's socket queue, scheduling and
// work, free of any network.
//
// Which port P feeds Q is not written anywhere in the packets; it is
// learnt by a vote: for Q's first packets, the latest earlier arrival of
// the same packet at another port, from a party other than the one Q
// sends to, names P, and the port named most often wins. With an SSRC
// of its own for every call (SIPp's rtp_stream) that is exact; if every
// call plays the same stream (SIPp's play_pcap_audio), it is right while
// the relay's delays stay under the time between two calls' starts, and
// a relay port fed by a port that is not fed by it back says it was not.

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"
)

type pktKey struct {
	ssrc uint32
	seq  uint16
}

type arrKey struct {
	port uint16
	pktKey
}

type arrival struct {
	port uint16
	from netip.AddrPort // the party that sent it
	at   time.Duration
}

type departure struct {
	at  time.Duration
	src uint16
	to  netip.AddrPort
	pktKey
}

type relayDir struct {
	packets, late, unmatched, lost int
	delays                         []time.Duration
}

type relayResult struct {
	dirs          map[netip.Addr]*relayDir
	pairs, mutual int
}

const votes = 64 // departures per port that vote on its source port

func analyseRelay(path string, lo, hi uint16, late time.Duration) (*relayResult, error) {
	arrivals := map[arrKey]time.Duration{}
	byPkt := map[pktKey][]arrival{}
	arrivedAt := map[uint16]int{}
	var deps []departure
	err := eachPacket(path, func(at time.Duration, from, to netip.AddrPort, payload []byte) {
		if !isRTP(payload) {
			return
		}
		k := pktKey{binary.BigEndian.Uint32(payload[8:]), binary.BigEndian.Uint16(payload[2:])}
		src, dst := from.Port(), to.Port()
		fromRelay, toRelay := src >= lo && src <= hi, dst >= lo && dst <= hi
		switch {
		case fromRelay && !toRelay:
			deps = append(deps, departure{at: at, src: src, to: to, pktKey: k})
		case toRelay && !fromRelay:
			ak := arrKey{dst, k}
			if _, dup := arrivals[ak]; !dup {
				arrivals[ak] = at
				byPkt[k] = append(byPkt[k], arrival{dst, from, at})
				arrivedAt[dst]++
			}
		}
	})
	if err != nil {
		return nil, err
	}
	// The vote: which port feeds each sending port.
	tally := map[uint16]map[uint16]int{}
	seen := map[uint16]int{}
	for _, d := range deps {
		if seen[d.src] >= votes {
			continue
		}
		seen[d.src]++
		var best arrival
		for _, a := range byPkt[d.pktKey] {
			// A relay sends a packet on to the other party, never back
			// to its sender: that rules out the other direction's
			// streams, which may reuse this one's SSRCs.
			if a.port != d.src && a.from != d.to && a.at <= d.at && a.at >= best.at {
				best = a
			}
		}
		if best.port != 0 {
			if tally[d.src] == nil {
				tally[d.src] = map[uint16]int{}
			}
			tally[d.src][best.port]++
		}
	}
	feed := map[uint16]uint16{}
	for q, t := range tally {
		var p uint16
		for cand, n := range t {
			if n > t[p] || n == t[p] && cand < p {
				p = cand
			}
		}
		feed[q] = p
	}
	r := &relayResult{dirs: map[netip.Addr]*relayDir{}, pairs: len(feed)}
	// A check on the vote: a relay's two ports feed each other.
	for q, p := range feed {
		if back, ok := feed[p]; ok && back == q {
			r.mutual++
		}
	}
	matched := map[uint16]int{}
	dirOf := map[uint16]*relayDir{}
	for _, d := range deps {
		dir := r.dirs[d.to.Addr()]
		if dir == nil {
			dir = &relayDir{}
			r.dirs[d.to.Addr()] = dir
		}
		dirOf[d.src] = dir
		dir.packets++
		a, ok := arrivals[arrKey{feed[d.src], d.pktKey}]
		if !ok || a > d.at {
			dir.unmatched++
			continue
		}
		matched[d.src]++
		delay := d.at - a
		dir.delays = append(dir.delays, delay)
		if delay > late {
			dir.late++
		}
	}
	for q, p := range feed {
		if n := arrivedAt[p] - matched[q]; n > 0 {
			dirOf[q].lost += n
		}
	}
	return r, nil
}

func (r *relayResult) print(w io.Writer, late time.Duration) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }
	fmt.Fprintf(w, "pairs=%d\nmutual=%d\n", r.pairs, r.mutual)
	addrs := make([]netip.Addr, 0, len(r.dirs))
	for a := range r.dirs {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return cmp.Compare(a.String(), b.String()) })
	for _, a := range addrs {
		d := r.dirs[a]
		q := quantiles(d.delays)
		share := 0.0
		if len(d.delays) > 0 {
			share = 100 * float64(d.late) / float64(len(d.delays))
		}
		fmt.Fprintf(w, "to=%s packets=%d matched=%d unmatched=%d lost=%d late=%d late_pct=%.3f p50_ms=%s p99_ms=%s p999_ms=%s max_ms=%s\n",
			a, d.packets, len(d.delays), d.unmatched, d.lost, d.late, share, ms(q(0.5)), ms(q(0.99)), ms(q(0.999)), ms(q(1)))
	}
	fmt.Fprintf(w, "# relay delay (sent minus arrived, same packet) over %d sending ports (%d of them fed by a port they feed); late means more than %v\n", r.pairs, r.mutual, late)
}
