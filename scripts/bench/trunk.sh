# shellcheck shell=bash
# Sourced by scripts/bench.sh (its helpers: start_deskpbx, sipp_run, ...):
# the trunk part, issue #10's "Measured". deskpbx (127.0.0.1) with a
# tenant whose trunk goes to a real Kamailio playing the provider
# (test/kamailio/provider.cfg, on 127.0.0.2, so deskpbx's address is the
# one Kamailio challenges), which routes deskpbx's calls to a SIPp UAS
# playing the outside callee (127.0.0.2 too). The callers are registered
# bench extensions (SIPp UAC, 407 digest) dialling a national outside
# number; deskpbx answers Kamailio's 407 with the trunk's credentials.
#
#  (a) setups: BENCH_TRUNK_CALLS calls without talk time, BENCH_TRUNK_INFLIGHT
#      in flight: calls/s, CPU per call of deskpbx and of Kamailio.
#  (b) relayed media: for each size in BENCH_TRUNK_N, that many concurrent
#      calls, each sending BENCH_TRUNK_TALK s of PCMU both ways (SIPp's
#      rtp_stream at both ends: an SSRC per call) through deskpbx's relay; capture on lo of both
#      directions, and e2e/cmd/rtpjitter -relay: each packet deskpbx sent
#      matched with its arrival at deskpbx (what the relay adds; see
#      e2e/cmd/rtpjitter/relay.go), per direction. Not the forwarded
#      packets' pacing against their 20 ms slots, as the media part
#      measures deskpbx's own streams: a relay sends when its sender did,
#      so that pacing would be SIPp's (rtp_stream sends every ~20.4 ms, so
#      its streams drift seconds late over a call, whoever relays them).

BENCH_TRUNK_CALLS=${BENCH_TRUNK_CALLS:-2000}
BENCH_TRUNK_INFLIGHT=${BENCH_TRUNK_INFLIGHT:-100}
BENCH_TRUNK_N=${BENCH_TRUNK_N:-100 500}
BENCH_TRUNK_RATE=${BENCH_TRUNK_RATE:-100}
BENCH_TRUNK_TALK=${BENCH_TRUNK_TALK:-20}
BENCH_TRUNK_NICE=${BENCH_TRUNK_NICE:-$BENCH_MEDIA_NICE}
# need_positive VAR...: each a positive integer, or the bench stops.
need_positive() {
	local v
	for v in "$@"; do
		if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
			echo "bench: $v must be a positive integer, got '${!v}'" >&2
			exit 2
		fi
	done
}
need_positive BENCH_TRUNK_CALLS BENCH_TRUNK_INFLIGHT BENCH_TRUNK_RATE BENCH_TRUNK_TALK
for n in $BENCH_TRUNK_N; do
	# A relay takes 4 RTP ports per call, in 10000-19999 or 26000-32767 (see free_range).
	if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt 1600 ]; then
		echo "bench: BENCH_TRUNK_N must be sizes from 1 to 1600, got '$n'" >&2
		exit 2
	fi
done

TRUNK_IP=127.0.0.2     # the provider's side of loopback: Kamailio and the outside callee
TRUNK_PW=bench-trunk-pw
TRUNK_DIALLED=5557001  # 7 digits, no +: a national call, which extensions may make by default
TRUNK_ROWS=()
TRUNK_MEDIA_ROWS=()
TRUNK_FMT='%-9s %8s %6s %6s %9s %8s %9s %10s %9s %10s\n'
TRUNK_MEDIA_FMT='%6s %6s %6s %5s %8s %9s %5s | %9s %8s %7s %7s %6s | %9s %8s %7s %7s %6s\n'
TRUNK_KPORT= TRUNK_KPID= TRUNK_UPORT=

# capture_start NAME FILTER: dumpcap on lo into $WORK/NAME.pcap if
# HAVE_DUMPCAP; CAPTURE_PID is its PID, empty if it is not capturing.
capture_start() {
	local cap=$WORK/$1.pcap
	CAPTURE_PID=
	[ "$HAVE_DUMPCAP" = 1 ] || return 0
	"${APART[@]}" 19 dumpcap -q -i lo -P -s 64 -B 64 -f "$2" -w "$cap" >"$WORK/$1.dumpcap.log" 2>&1 &
	CAPTURE_PID=$!
	STARTED+=("$CAPTURE_PID")
	for _ in $(seq 100); do
		[ -s "$cap" ] && return 0
		kill -0 "$CAPTURE_PID" 2>/dev/null || break
		sleep 0.1
	done
	NOTES+=("$1: dumpcap did not start capturing on lo: no lateness figures (see $WORK/$1.dumpcap.log)")
	kill "$CAPTURE_PID" 2>/dev/null || true
	CAPTURE_PID=
}

# capture_stop NAME: ends capture_start's dumpcap, noting dropped packets.
capture_stop() {
	local drops
	[ -n "$CAPTURE_PID" ] || return 0
	kill -INT "$CAPTURE_PID" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$CAPTURE_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$CAPTURE_PID" 2>/dev/null || true
	wait "$CAPTURE_PID" 2>/dev/null || true
	# "Packets received/dropped on interface 'Loopback: lo': 3/0 (...)"
	drops=$(sed -n 's|.*received/dropped on interface.*: [0-9]*/\([0-9]*\) .*|\1|p' "$WORK/$1.dumpcap.log" | awk '{ s += $1 } END { print s + 0 }')
	[ "${drops:-0}" != 0 ] && NOTES+=("$1: dumpcap dropped $drops packets: the lateness figures are from a partial capture")
	return 0
}

# bench_with_dumpcap PART: HAVE_DUMPCAP=1 if this can capture on lo.
bench_with_dumpcap() {
	HAVE_DUMPCAP=0
	if [ "$(id -u)" = 0 ] && have_dumpcap; then
		HAVE_DUMPCAP=1
	else
		NOTES+=("$1: no packet capture (needs root and dumpcap from tshark): no lateness figures")
	fi
}

trunk_setup() { # start_deskpbx's SETUP: the tenant's trunk to Kamailio
	"$DESKPBX" trunk add -db "$PBX_DB" -host "$TRUNK_IP:$TRUNK_KPORT" -username acme -password "$TRUNK_PW" \
		-register -from-domain provider.test "$DOMAIN" provider >/dev/null
	"$DESKPBX" tenant set -db "$PBX_DB" -main-number +15550100 "$DOMAIN" >/dev/null
}

# trunk_kamailio: the provider, on free ports, by PID; TRUNK_UPORT is
# where it sends calls (the outside callee's SIPp, started later).
trunk_kamailio() {
	local cfg=$WORK/provider.cfg
	free_port TRUNK_KPORT
	free_port TRUNK_UPORT
	sed -e "s|@LISTEN@|udp:$TRUNK_IP:$TRUNK_KPORT|" -e "s|@PASSWORD@|$TRUNK_PW|" -e "s|@EXPIRES@|600|" \
		-e "s|@PBXIP@|127.0.0.1|" -e "s|@CALLEE@|$TRUNK_IP:$TRUNK_UPORT|" test/kamailio/provider.cfg >"$cfg"
	if ! kamailio -c -f "$cfg" >"$WORK/provider-check.log" 2>&1; then
		tail -n 20 "$WORK/provider-check.log" >&2
		return 1
	fi
	mkdir -p "$WORK/provider-run"
	kamailio -DD -E -f "$cfg" -Y "$WORK/provider-run" -P "$WORK/provider.pid" -m 256 -M 16 >"$WORK/provider.log" 2>&1 &
	TRUNK_KPID=$!
	STARTED+=("$TRUNK_KPID")
	wait_ready "$TRUNK_IP:$TRUNK_KPORT" "$TRUNK_KPID" kamailio "$WORK/provider.log"
}

# trunk_callee NAME SCENARIO COUNT ARGS...: the outside callee's SIPp in
# the background on TRUNK_UPORT; sets TRUNK_UPID.
trunk_callee() {
	local name=$1 scen=$2 count=$3 mport
	shift 3
	free_port mport 4
	[[ $scen == /* ]] || scen=$ROOT/test/sipp/$scen
	timeout -k 10 $((BENCH_TIMEOUT + 60)) nice -n "${SIPP_NICE:-0}" sipp -nostdin -sf "$scen" \
		-i "$TRUNK_IP" -p "$TRUNK_UPORT" -mi "$TRUNK_IP" -mp "$mport" -t u1 -m "$count" \
		-timeout "${BENCH_TIMEOUT}s" -buff_size 1048576 -trace_stat -stf "$WORK/$name.stat" -fd 1 \
		"$@" >"$WORK/$name.out" 2>&1 &
	TRUNK_UPID=$!
	STARTED+=("$TRUNK_UPID")
	wait_bound "$TRUNK_UPORT" "$TRUNK_UPID"
}

# trunk_callee_end: let the callee finish its calls (BYE, 1 s timewait),
# or make it dump its statistics and stop.
trunk_callee_end() {
	local sipp_pid
	sipp_pid=$(children_of "$TRUNK_UPID") # SIPp is timeout(1)'s child
	for _ in $(seq 100); do
		kill -0 "$TRUNK_UPID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TRUNK_UPID" 2>/dev/null; then
		kill -USR1 $sipp_pid 2>/dev/null || true # SIPp: finish and dump statistics
		sleep 3
	fi
	stop_pid "$TRUNK_UPID" "SIPp outside callee" 2>/dev/null
	# Never let a callee outlive its run: the next one binds the same port.
	kill -KILL $sipp_pid 2>/dev/null || true
}

kam_pids() { echo "$TRUNK_KPID" $(children_of "$TRUNK_KPID"); }

# trunk_setups: (a).
trunk_setups() {
	local t0 t1 k0 k1 ok bad retr uretr el uok
	trunk_callee trunk-callee trunk_callee.xml "$BENCH_TRUNK_CALLS" -key rtp_ip "$TRUNK_IP" -key rtp_port 9 || {
		NOTES+=("trunk: the outside callee's SIPp did not start: no setup figures")
		return 0
	}
	note_load "trunk setups"
	log "trunk: $BENCH_TRUNK_CALLS outside calls (407 auth at deskpbx, 407 at Kamailio), $BENCH_TRUNK_INFLIGHT in flight, no talk time"
	t0=$(cpu_ticks "$PBX_PID")
	k0=$(cpu_ticks $(kam_pids))
	SIPP_LPORT=$TRUNK_LPORT sipp_run trunk-setups uac_auth.xml "$PBX_ADDR" -inf "$WORK/trunk-callers.inf" \
		-r 100000 -rp 1000 -l "$BENCH_TRUNK_INFLIGHT" -m "$BENCH_TRUNK_CALLS" -d 0
	t1=$(cpu_ticks "$PBX_PID")
	k1=$(cpu_ticks $(kam_pids))
	ok=$(num "$(sipp_stat "$WORK/trunk-setups.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/trunk-setups.stat" 'FailedCall(C)')")
	retr=$(num "$(sipp_stat "$WORK/trunk-setups.stat" 'Retransmissions(C)')")
	el=$(elapsed "$WORK/trunk-setups.stat")
	[ "$SIPP_RC" != 0 ] && NOTES+=("trunk setups: caller SIPp exit status $SIPP_RC ($WORK/trunk-setups.out)")
	trunk_callee_end
	uok=$(num "$(sipp_stat "$WORK/trunk-callee.stat" 'SuccessfulCall(C)')")
	uretr=$(num "$(sipp_stat "$WORK/trunk-callee.stat" 'Retransmissions(C)')")
	TRUNK_ROWS+=("$(awk -v ok="$ok" -v bad="$bad" -v r="$retr/$uretr" -v el="$el" -v t="$((t1 - t0))" -v k="$((k1 - k0))" -v hz="$CLK_TCK" -v uok="$uok" -v fmt="$TRUNK_FMT" \
		'BEGIN { cpu = t / hz; kc = k / hz
			printf fmt, "deskpbx", (el > 0 ? sprintf("%.0f", ok / el) : "-"), ok, bad, r, sprintf("%.2fs", el),
				sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", cpu * 1e6 / ok) : "-"),
				sprintf("%.2fs", kc), (ok > 0 ? sprintf("%.1f", kc * 1e6 / ok) : "-") }')")
	[ "$uok" != "$ok" ] && NOTES+=("trunk setups: the outside callee completed $uok calls, the callers $ok")
	return 0
}

# trunk_relay_dir FILE IP: "packets late% p99 max lost" of one direction
# of rtpjitter -relay's output.
trunk_relay_dir() {
	awk -v ip="$2" '$1 == "to=" ip { for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%s %.2f%% %s %s %s", v["matched"], v["late_pct"], v["p99_ms"], v["max_ms"], v["lost"]; found = 1 }
		END { if (!found) print "- - - - -" }' "$1"
}

# trunk_media N: (b) at one size.
trunk_media() {
	local n=$1 name=trunk-media-$1 cap=$WORK/trunk-media-$1.pcap t0 t1 k0 k1 b0 a0 b1 a1 busy ok bad peak uok
	local phone prov
	trunk_callee "$name-callee" "$WORK/trunk_callee_stream.xml" "$n" || {
		NOTES+=("trunk $n: the outside callee's SIPp did not start: skipped")
		return 0
	}
	# Both directions of every relayed packet: into and out of deskpbx's RTP ports.
	capture_start "$name" "udp portrange $PBX_RTP_LO-$PBX_RTP_HI"
	note_load "trunk $n"
	log "trunk: $n concurrent outside calls at $BENCH_TRUNK_RATE/s, each ${BENCH_TRUNK_TALK}s of PCMU both ways through deskpbx's relay"
	t0=$(cpu_ticks "$PBX_PID")
	k0=$(cpu_ticks $(kam_pids))
	read -r b0 a0 < <(stat_ticks)
	SIPP_NICE=$BENCH_TRUNK_NICE SIPP_LPORT=$TRUNK_LPORT sipp_run "$name" "$WORK/uac_auth_stream_bye.xml" "$PBX_ADDR" -inf "$WORK/trunk-callers.inf" \
		-mi 127.0.0.1 -r "$BENCH_TRUNK_RATE" -rp 1000 -l "$n" -m "$n" -d $((BENCH_TRUNK_TALK * 1000 + 500)) -fd 1
	t1=$(cpu_ticks "$PBX_PID")
	k1=$(cpu_ticks $(kam_pids))
	read -r b1 a1 < <(stat_ticks)
	busy=$(awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }')
	trunk_callee_end
	capture_stop "$name"
	ok=$(num "$(sipp_stat "$WORK/$name.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/$name.stat" 'FailedCall(C)')")
	peak=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CurrentCall") c = i; next } c && $c > m { m = $c } END { print m + 0 }' "$WORK/$name.stat" 2>/dev/null)
	uok=$(num "$(sipp_stat "$WORK/$name-callee.stat" 'SuccessfulCall(C)')")
	[ "$SIPP_RC" != 0 ] && NOTES+=("trunk $n: caller SIPp exit status $SIPP_RC ($WORK/$name.out)")
	[ "$uok" != "$ok" ] && NOTES+=("trunk $n: the outside callee completed $uok calls, the callers $ok")
	phone="- - - - -" prov="- - - - -"
	if [ -s "$cap" ] && "$WORK/rtpjitter" -relay -src-ports "$PBX_RTP_LO-$PBX_RTP_HI" "$cap" >"$WORK/$name.relay" 2>&1; then
		awk -F= '$1 == "pairs" { p = $2 } $1 == "mutual" { m = $2 } END { exit !(p == m) }' "$WORK/$name.relay" ||
			NOTES+=("trunk $n: rtpjitter -relay paired some ports one way only ($(head -n 2 "$WORK/$name.relay" | tr '\n' ' ')): check $WORK/$name.relay")
		phone=$(trunk_relay_dir "$WORK/$name.relay" 127.0.0.1)
		prov=$(trunk_relay_dir "$WORK/$name.relay" "$TRUNK_IP")
	elif [ -s "$cap" ]; then
		NOTES+=("trunk $n: rtpjitter -relay failed: $(tail -n 1 "$WORK/$name.relay")")
	fi
	[ "${BENCH_KEEP:-}" = 1 ] || rm -f "$cap"
	local -a p=($phone) q=($prov)
	TRUNK_MEDIA_ROWS+=("$(awk -v n="$n" -v ok="$ok" -v bad="$bad" -v peak="$peak" -v t="$((t1 - t0))" -v k="$((k1 - k0))" -v hz="$CLK_TCK" -v talk="$BENCH_TRUNK_TALK" -v busy="$busy" \
		-v fmt="$TRUNK_MEDIA_FMT" -v p1="${p[0]}" -v p2="${p[1]}" -v p3="${p[2]}" -v p4="${p[3]}" -v p5="${p[4]}" -v q1="${q[0]}" -v q2="${q[1]}" -v q3="${q[2]}" -v q4="${q[3]}" -v q5="${q[4]}" \
		'BEGIN { cpu = t / hz; printf fmt, n, ok, bad, peak, sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.3f%%", 100 * cpu / (ok * talk)) : "-"), busy,
			p1, p2, p3, p4, p5, q1, q2, q3, q4, q5 }')")
	# Both directions under 1% late, and every call through: this size holds.
	if [ "$bad" = 0 ] && [ "$ok" = "$n" ] && awk -v a="${p[1]%\%}" -v b="${q[1]%\%}" 'BEGIN { exit !(a != "-" && b != "-" && a + 0 < 1 && b + 0 < 1) }'; then
		[ "$n" -gt "${TRUNK_HOLDS:-0}" ] && TRUNK_HOLDS=$n
	fi
	return 0
}

bench_trunk() {
	need_sipp
	if ! ensure_kamailio; then
		NOTES+=("trunk: kamailio could not be installed: skipped")
		return 0
	fi
	build_deskpbx
	build_tools
	make_users
	bench_with_dumpcap trunk
	local n max=1 reg f
	for n in $BENCH_TRUNK_N; do [ "$n" -gt "$max" ] && max=$n; done
	# Every bench user but the first calls the outside number.
	{ echo SEQUENTIAL; sed -n '3,$p' "$WORK/users.inf" | sed "s/;[^;]*\$/;$TRUNK_DIALLED/"; } >"$WORK/trunk-callers.inf"
	# What both ends say: a tone sweeping the voice band, as raw u-law.
	sox -n -r 8000 -c 1 -e u-law -t raw "$WORK/trunk-talk.ul" synth "$BENCH_TRUNK_TALK" sine 300-3000 vol 0.3
	for f in uac_auth_stream_bye trunk_callee_stream; do
		sed "s|\[stream\]|$WORK/trunk-talk.ul|" "test/sipp/$f.xml" >"$WORK/$f.xml"
	done
	if ! trunk_kamailio; then
		NOTES+=("trunk: Kamailio (test/kamailio/provider.cfg) did not start: skipped")
		return 0
	fi
	# A relay takes 4 ports a call (two even ports, each with its odd RTCP
	# neighbour kept free): for the largest size, or the setups in flight.
	[ "$BENCH_TRUNK_INFLIGHT" -gt "$max" ] && max=$BENCH_TRUNK_INFLIGHT
	start_deskpbx trunk $((4 * max + 64)) warn trunk_setup
	for _ in $(seq 150); do
		"$DESKPBX" trunk list -db "$PBX_DB" 2>/dev/null | grep -q ' registered' && break
		sleep 0.2
	done
	"$DESKPBX" trunk list -db "$PBX_DB" 2>/dev/null | grep -q ' registered' ||
		NOTES+=("trunk: deskpbx's trunk did not register to Kamailio within 30 s ($("$DESKPBX" trunk list -db "$PBX_DB" 2>&1 | tail -n 1))")
	# The callers register first, from the port they then call from.
	free_port TRUNK_LPORT
	SIPP_LPORT=$TRUNK_LPORT sipp_run trunk-register register.xml "$PBX_ADDR" -inf "$WORK/trunk-callers.inf" \
		-r 1000 -rp 1000 -l 200 -m $((BENCH_USERS - 1))
	reg=$(num "$(sipp_stat "$WORK/trunk-register.stat" 'SuccessfulCall(C)')")
	[ "$reg" != $((BENCH_USERS - 1)) ] && NOTES+=("trunk: only $reg of $((BENCH_USERS - 1)) callers registered")
	trunk_setups
	TRUNK_HOLDS=0
	for n in $BENCH_TRUNK_N; do
		trunk_media "$n"
	done
	stop_pid "$PBX_PID" deskpbx
	release_range "$PBX_RTP_LO" "$PBX_RTP_HI"
	stop_pid "$TRUNK_KPID" kamailio
}

trunk_print() {
	if [ ${#TRUNK_ROWS[@]} -gt 0 ]; then
		echo "Trunk call setups: registered extensions (SIPp, 407 digest) dial $TRUNK_DIALLED; deskpbx, its trunk to Kamailio $(kamailio -v 2>/dev/null | awk '/^version:/ { print $3; exit }') (407 answered"
		echo "with the trunk's credentials, test/kamailio/provider.cfg), a SIPp UAS as the outside callee; 200, ACK, BYE at once; $BENCH_TRUNK_CALLS calls, $BENCH_TRUNK_INFLIGHT in flight."
		echo "retrans: the callers' SIPp / the callee's SIPp. CPU: deskpbx's, and Kamailio's (all its processes)."
		printf "$TRUNK_FMT" server "calls/s" ok failed retrans elapsed CPU "µs/call" "Kam CPU" "Kam µs/call"
		printf '%s\n' "${TRUNK_ROWS[@]}"
		echo
	fi
	if [ ${#TRUNK_MEDIA_ROWS[@]} -gt 0 ]; then
		echo "Relayed trunk calls: that many concurrent outside calls ($BENCH_TRUNK_RATE new/s), each ${BENCH_TRUNK_TALK} s of PCMU both ways (SIPp rtp_stream at nice"
		echo "$BENCH_TRUNK_NICE at both ends) through deskpbx's media relay. CPU: deskpbx's; core/call its share of one core per call in progress; box: whole machine."
		echo "late: deskpbx's relay delay (the packet sent minus the same packet's arrival at deskpbx, capture on lo, rtpjitter -relay)"
		echo "over 5 ms, per direction: toward the phone (SIPp UAC) and toward the provider (Kamailio side); lost: arrived, never sent on."
		printf "$TRUNK_MEDIA_FMT" calls ok failed peak CPU core/call box "to phone" "late>5ms" "p99 ms" "max ms" lost "to prov" "late>5ms" "p99 ms" "max ms" lost
		printf '%s\n' "${TRUNK_MEDIA_ROWS[@]}"
		if [ "${TRUNK_HOLDS:-0}" -gt 0 ]; then
			echo "largest size with every call through and under 1% late both ways: $TRUNK_HOLDS concurrent relayed calls (of $BENCH_TRUNK_N)"
		else
			echo "no size of $BENCH_TRUNK_N kept every call through and under 1% late both ways"
		fi
		echo
	fi
}
