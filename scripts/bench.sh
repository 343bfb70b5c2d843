#!/usr/bin/env bash
# Load benchmarks for deskpbx, on 127.0.0.1 only, with free ports, every
# load bounded in count (-m) and in time (SIPp -timeout and timeout(1)).
#
#   scripts/bench.sh            all of the parts below (make bench)
#   scripts/bench.sh reg        REGISTER with digest against deskpbx
#   scripts/bench.sh kamailio   the same load against Kamailio (installed
#                               from Debian if missing; skipped if it cannot be)
#   scripts/bench.sh calls      call setups through deskpbx (407 auth, B2BUA)
#   scripts/bench.sh go         go test -bench over the module
#   scripts/bench.sh media      concurrent *44 DTMF-test calls: deskpbx CPU per
#                               call, RTP pacing (tshark's dumpcap on lo), digits
#   scripts/bench.sh logins     a storm of concurrent *072 hot-desk logins
#   scripts/bench.sh trunk      outside calls through a trunk to Kamailio as the
#                               provider: setups per second, and concurrent
#                               calls with RTP relayed both ways (scripts/bench/trunk.sh)
#   scripts/bench.sh voicemail  callers leaving messages while others listen
#                               (*97), concurrently (scripts/bench/voicemail.sh)
#   (parts combine: scripts/bench.sh reg kamailio)
#
# Sizing (environment):
#   BENCH_N=100000        REGISTERs per registrar run
#   BENCH_USERS=1000      extensions provisioned (ext import) and registered, in order
#   BENCH_INFLIGHT=200    REGISTERs in flight (SIPp -l)
#   BENCH_REG_ROUNDS=3    rounds of deskpbx then Kamailio when both run:
#                         one run of each differs from the next by 5-10% on
#                         a shared VM, so the ratio is given round by round
#                         (each pair shares the box's mood) and their median
#   BENCH_CALLS=N/20      calls in the calls run (default 5000)
#   BENCH_CALL_INFLIGHT=100  calls in flight
#   BENCH_CALL_HOLD=500   calls held up at once (10 s each) before the calls run,
#                         for deskpbx's live heap per call
#   BENCH_TIMEOUT=300     seconds each SIPp run may take at most
#   BENCH_GOTIME=200ms    -benchtime for the Go benchmarks
#   BENCH_MEDIA_N="1000 2000 2100"  concurrent *44 calls, one media run per size
#   BENCH_MEDIA_RATE=250  new *44 calls per second (SIPp -r)
#   BENCH_MEDIA_NICE=19   nice level of that SIPp, in a scheduling group of
#                         its own (sipp_run): a load generator sharing the
#                         two cores must not pass for deskpbx's own lateness
#   BENCH_MEDIA_LEAD=2s   PCMU audio each call sends before its first key
#   BENCH_MEDIA_DTMF=inband  how the *44 callers key: inband sends the keys
#                         as G.711 tones in a PCMU stream that runs for the
#                         whole call, from SIPp's rtp_stream (a plain UDP
#                         socket); rfc4733 sends telephone-events with
#                         play_pcap_audio, whose raw socket per playing call
#                         makes the kernel deliver every UDP packet on the
#                         box slower (raw_local_deliver walks them all: 17%
#                         of perf's samples under deskpbx's sendto at 2,000
#                         calls), deskpbx's included
#   BENCH_RT_PRIORITY=N   real-time priority of deskpbx's media threads (DESKPBX_RT_PRIORITY;
#                         0: normal scheduling); default: the packaged
#                         service's (packaging/deskpbx.service), as shipped
#   BENCH_MEDIA_NORMAL_N="2000 2100"  media sizes run again at normal
#                         scheduling, for comparison ("" for none)
#   BENCH_MEDIA_PIN=1     media runs with deskpbx alone on CPU 0, SIPp and
#                         dumpcap on the others (taskset): deskpbx's pacing
#                         without the load generator's interference
#   BENCH_LOGINS=200      concurrent *072 logins (seats and persons: 2x this
#                         many of the BENCH_USERS extensions)
#   BENCH_TRUNK_CALLS=2000    outside calls in the trunk setups run
#   BENCH_TRUNK_INFLIGHT=100  of them in flight
#   BENCH_TRUNK_N="100 500"   concurrent relayed trunk calls, one run per size
#   BENCH_TRUNK_RATE=100      new relayed calls per second (SIPp -r)
#   BENCH_TRUNK_TALK=20       seconds of RTP each relayed call sends each way
#   BENCH_TRUNK_NICE=$BENCH_MEDIA_NICE  nice level of the relayed calls' SIPps
#   BENCH_VM_N=100            callers leaving messages, and as many people
#                             listening (*97) at the same time
#   BENCH_VM_TALK=20          seconds of speech in each message
#   BENCH_VM_NICE=$BENCH_MEDIA_NICE  nice level of the voicemail SIPps
#   BENCH_KEEP=1          keep the work directory (logs, SIPp statistics)
#   BENCH_DESKPBX=PATH    use this deskpbx binary instead of building ./cmd/deskpbx
#
# SIPp and deskpbx share the machine's cores: the figures are for the
# whole box, SIPp's own CPU included, as in design.md's reference figures.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BENCH_N=${BENCH_N:-100000}
BENCH_USERS=${BENCH_USERS:-1000}
BENCH_INFLIGHT=${BENCH_INFLIGHT:-200}
BENCH_REG_ROUNDS=${BENCH_REG_ROUNDS:-3}
BENCH_CALLS=${BENCH_CALLS:-$((BENCH_N / 20))}
BENCH_CALL_INFLIGHT=${BENCH_CALL_INFLIGHT:-100}
BENCH_CALL_HOLD=${BENCH_CALL_HOLD:-500}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
BENCH_GOTIME=${BENCH_GOTIME:-200ms}
BENCH_MEDIA_N=${BENCH_MEDIA_N:-1000 2000 2100}
BENCH_MEDIA_RATE=${BENCH_MEDIA_RATE:-250}
BENCH_MEDIA_NICE=${BENCH_MEDIA_NICE:-19}
BENCH_MEDIA_DTMF=${BENCH_MEDIA_DTMF:-inband}
BENCH_MEDIA_PIN=${BENCH_MEDIA_PIN:-0}
BENCH_MEDIA_NORMAL_N=${BENCH_MEDIA_NORMAL_N-2000 2100}
# As the packaged service runs it: its Environment=DESKPBX_RT_PRIORITY.
SHIPPED_RT=$(sed -n 's/^Environment=DESKPBX_RT_PRIORITY=\([0-9]*\)$/\1/p' packaging/deskpbx.service 2>/dev/null | tail -n 1)
BENCH_RT_PRIORITY=${BENCH_RT_PRIORITY:-${SHIPPED_RT:-0}}
PBX_RT=$BENCH_RT_PRIORITY
BENCH_LOGINS=${BENCH_LOGINS:-200}
DOMAIN=bench.example
FIRST_EXT=10000
KAM_CHILDREN=4

for v in BENCH_N BENCH_USERS BENCH_INFLIGHT BENCH_CALLS BENCH_CALL_INFLIGHT BENCH_CALL_HOLD BENCH_TIMEOUT BENCH_MEDIA_RATE BENCH_LOGINS; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench: $v must be a positive integer, got '${!v}'" >&2
		exit 2
	fi
done
if [ "$BENCH_USERS" -lt 2 ]; then
	echo "bench: BENCH_USERS must be at least 2 (one callee, callers)" >&2
	exit 2
fi
if ! [[ $BENCH_RT_PRIORITY =~ ^[0-9]+$ ]] || [ "$BENCH_RT_PRIORITY" -gt 99 ]; then
	echo "bench: BENCH_RT_PRIORITY must be 0-99, got '$BENCH_RT_PRIORITY'" >&2
	exit 2
fi
for n in $BENCH_MEDIA_N $BENCH_MEDIA_NORMAL_N; do
	# 2 RTP ports per call must fit in 10000-19999 or 26000-32767 (see free_range).
	if ! [[ $n =~ ^[1-9][0-9]*$ ]] || [ "$n" -gt 3000 ]; then
		echo "bench: BENCH_MEDIA_N must be sizes from 1 to 3000, got '$n'" >&2
		exit 2
	fi
done

parts=("$@")
if [ ${#parts[@]} -eq 0 ] || [ "${parts[0]}" = all ]; then
	parts=(reg kamailio calls media logins trunk voicemail go)
fi
for p in "${parts[@]}"; do
	case $p in
	reg | kamailio | calls | media | logins | trunk | voicemail | go) ;;
	*)
		echo "usage: scripts/bench.sh [all|reg|kamailio|calls|media|logins|trunk|voicemail|go]..." >&2
		exit 2
		;;
	esac
done

sudo=()
if [ "$(id -u)" != 0 ]; then
	sudo=(sudo)
fi
export CGO_ENABLED=1
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/deskpbx-bench.XXXXXX")
STARTED=()          # PIDs of the servers and SIPp processes this script started
REMOVE_POLICY_RC=0  # we created /usr/sbin/policy-rc.d and must remove it

cleanup() {
	local pid
	for pid in "${STARTED[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
		fi
	done
	for pid in "${STARTED[@]}"; do
		for _ in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [ "$REMOVE_POLICY_RC" = 1 ]; then
		"${sudo[@]}" rm -f /usr/sbin/policy-rc.d
	fi
	if [ "${BENCH_KEEP:-}" = 1 ]; then
		echo "bench: work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'bench: %s\n' "$*" >&2; }

# ---- ports ----------------------------------------------------------------

TAKEN=" "
# used_ports prints, in hex, every local port bound on this machine.
used_ports() {
	awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/udp /proc/net/udp6 /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u | tr '\n' ' '
}
port_free() { # port used-list
	local hex
	hex=$(printf '%04X' "$1")
	case " $2 $TAKEN " in *" $hex "* | *" $1 "*) return 1 ;; esac
	return 0
}
# free_port VAR [N]: VAR gets a port P such that P..P+N-1 are free (UDP and
# TCP) on this machine, below the kernel's ephemeral range, in 20000-25999
# (free_range has the ports above, so the small ones never split them).
free_port() {
	local var=$1 n=${2:-1} used p i ok
	used=$(used_ports)
	for _ in $(seq 1000); do
		p=$((20000 + RANDOM % (6000 - n)))
		ok=1
		for ((i = 0; i < n; i++)); do
			port_free $((p + i)) "$used" || { ok=0; break; }
		done
		if [ $ok = 1 ]; then
			for ((i = 0; i < n; i++)); do TAKEN+="$((p + i)) "; done
			printf -v "$var" '%s' "$p"
			return 0
		fi
	done
	echo "bench: no free port found" >&2
	return 1
}
# free_range VAR N: a block of N free ports in 10000-19999 or 26000-32767
# (deskpbx's RTP ports for the media runs, too many for free_port's shell
# loop; free_port's 20000-25999 is left to it, the ephemeral ports from
# 32768 to the kernel), kept in RANGES until release_range.
RANGES=" "
free_range() {
	local var=$1 n=$2 p
	p=$( { used_ports | tr ' ' '\n' | awk 'NF { print "h", $1 }'; printf '%s\n' $RANGES | awk -F- 'NF { print "r", $1, $2 }'; } |
		awk -v n="$n" -v seed="$RANDOM" '
			function hex(s,   i, v) { v = 0; for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1; return v }
			$1 == "h" { used[hex($2)] = 1; next }
			$1 == "r" { for (i = $2; i <= $3; i++) used[i] = 1 }
			END {
				for (i = 20000; i < 26000; i++) used[i] = 1
				srand(seed)
				for (try = 0; try < 1000; try++) {
					p = 10000 + int(rand() * (32768 - 10000 - n)); ok = 1
					for (i = 0; i < n; i++) if ((p + i) in used) { ok = 0; break }
					if (ok) { print p; exit }
				}
			}')
	if [ -z "$p" ]; then
		echo "bench: no $n free consecutive ports found in 10000-19999 or 26000-32767" >&2
		return 1
	fi
	RANGES+="$p-$((p + n - 1)) "
	printf -v "$var" '%s' "$p"
}
release_range() { RANGES=${RANGES/ $1-$2 / }; }
# wait_bound PORT PID: wait until PID has bound UDP PORT.
wait_bound() {
	local hex
	hex=$(printf '%04X' "$1")
	for _ in $(seq 300); do
		if awk 'FNR > 1 { split($2, a, ":"); print a[2] }' /proc/net/udp 2>/dev/null | grep -qx "$hex"; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ---- processes --------------------------------------------------------------

# cpu_ticks PID...: user+system CPU of the processes, in clock ticks.
cpu_ticks() {
	local t=0 pid v
	for pid in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo "$t"
}
children_of() {
	local f
	for f in /proc/[0-9]*/stat; do
		awk -v want="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == want) print pid }' "$f" 2>/dev/null || true
	done
}
# busy_pct: how busy the whole machine is over one second, in percent
# (other processes' load makes the figures lower: they say so).
busy_pct() {
	local a b
	a=$(head -n 1 /proc/stat)
	sleep 1
	b=$(head -n 1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; idle = $5 + $6 } NR == 1 { t0 = t; i0 = idle } NR == 2 { d = t - t0; printf "%.0f", (d > 0 ? 100 - 100 * (idle - i0) / d : 0) }'
}
note_load() { # LABEL
	local busy
	busy=$(busy_pct)
	if [ "$busy" -ge 15 ]; then
		NOTES+=("$1: the machine was already ${busy}% busy (other processes) just before: figures are lower than on an idle box")
	fi
}
# stat_ticks: "busy total" clock ticks of the whole machine so far (/proc/stat).
stat_ticks() {
	head -n 1 /proc/stat | awk '{ t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }'
}
peak_rss_mb() {
	awk '/^VmHWM:/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"
}

# ---- tools ----------------------------------------------------------------

deb_installed() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }

apt_install() {
	command -v apt-get >/dev/null 2>&1 || return 1
	"${sudo[@]}" apt-get update -qq >&2 &&
		"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

need_sipp() {
	if ! command -v sipp >/dev/null 2>&1; then
		log "installing sip-tester (SIPp)"
		apt_install sip-tester || { echo "bench: SIPp is required (apt-get install sip-tester)" >&2; exit 1; }
	fi
}

DESKPBX=${BENCH_DESKPBX:-$WORK/deskpbx}
build_deskpbx() {
	[ -x "$DESKPBX" ] && return 0
	if [ -n "${BENCH_DESKPBX:-}" ]; then
		echo "bench: BENCH_DESKPBX=$BENCH_DESKPBX is not an executable" >&2
		exit 1
	fi
	log "building deskpbx"
	go build -o "$DESKPBX" ./cmd/deskpbx
}

# ---- users ----------------------------------------------------------------

# make_users: deskpbx import CSV and the SIPp injection file, same users.
make_users() {
	[ -f "$WORK/users.csv" ] && return 0
	local i n
	{
		echo "domain,number,password,pin,name"
		for ((i = 0; i < BENCH_USERS; i++)); do
			n=$((FIRST_EXT + i))
			echo "$DOMAIN,$n,bench-pw-$n,,Bench $n"
		done
	} >"$WORK/users.csv"
	{
		echo SEQUENTIAL
		for ((i = 0; i < BENCH_USERS; i++)); do
			n=$((FIRST_EXT + i))
			echo "$n;$DOMAIN;[authentication username=$n password=bench-pw-$n];$FIRST_EXT"
		done
	} >"$WORK/users.inf"
	# The callee registers alone; the others call it.
	{ echo SEQUENTIAL; sed -n 2p "$WORK/users.inf"; } >"$WORK/callee.inf"
	{ echo SEQUENTIAL; sed -n '3,$p' "$WORK/users.inf"; } >"$WORK/callers.inf"
}

# ---- deskpbx ----------------------------------------------------------------

PBX_PID= PBX_ADDR= PBX_DB= PBX_RTP_LO= PBX_RTP_HI= PBX_CPUS= LOAD_CPUS= PBX_PIN_NOTE=
# start_deskpbx NAME [RTP_PORTS [LOG_LEVEL [SETUP]]]: a fresh database with
# the bench users (SETUP, a function, may add to it before the start),
# deskpbx serving it with that many RTP ports (default 100) and log level
# (default warn).
start_deskpbx() {
	local name=$1 nrtp=${2:-100} level=${3:-warn} setup=${4:-} db=$WORK/$1.db port hport rtp
	build_deskpbx
	make_users
	"$DESKPBX" tenant add -db "$db" "$DOMAIN" >/dev/null
	# No unsolicited message-summary NOTIFYs: deskpbx sends one to each
	# phone as it registers, and SIPp's scenarios take an out-of-dialog
	# NOTIFY for a call they did not expect (the callee then counts one
	# call short and a call of the run hangs for 30 s). Binaries from
	# before the switch have no such flag, and send none.
	"$DESKPBX" tenant set -db "$db" -mwi-unsolicited off "$DOMAIN" >/dev/null 2>&1 || true
	"$DESKPBX" ext import -db "$db" "$WORK/users.csv" >/dev/null
	PBX_DB=$db
	if [ -n "$setup" ]; then
		"$setup"
	fi
	free_port port
	free_port hport
	if [ "$nrtp" -gt 200 ]; then free_range rtp "$nrtp"; else free_port rtp "$nrtp"; fi
	PBX_ADDR=127.0.0.1:$port PBX_RTP_LO=$rtp PBX_RTP_HI=$((rtp + nrtp - 1))
	DESKPBX_RT_PRIORITY=$PBX_RT ${PBX_CPUS:+taskset -c "$PBX_CPUS"} "$DESKPBX" serve -db "$db" -sip-addr "$PBX_ADDR" -http-addr "127.0.0.1:$hport" \
		-rtp-ports "$rtp-$PBX_RTP_HI" -log-level "$level" >"$WORK/$name.log" 2>&1 &
	PBX_PID=$!
	STARTED+=("$PBX_PID")
	wait_ready "$PBX_ADDR" "$PBX_PID" "deskpbx" "$WORK/$name.log"
}

# wait_ready ADDR PID NAME LOG: until ADDR answers SIP OPTIONS with 2xx.
wait_ready() {
	for _ in $(seq 150); do
		if "$DESKPBX" healthcheck -sip-addr "$1" >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$2" 2>/dev/null; then
			echo "bench: $3 exited while starting; its log:" >&2
			tail -n 30 "$4" >&2
			return 1
		fi
		sleep 0.2
	done
	echo "bench: $3 did not answer OPTIONS on $1 within 30 s" >&2
	return 1
}

# stop_pid PID NAME: SIGTERM, wait (bounded), report the exit status.
stop_pid() {
	local rc=0
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		log "$2 still running 30 s after SIGTERM: killed"
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || rc=$?
	if [ "$rc" != 0 ]; then
		log "$2 exited with status $rc"
	fi
}

# ---- SIPp ---------------------------------------------------------------------

# "${APART[@]}" NICE CMD ARGS...: CMD in a session of its own (so a
# scheduling autogroup of its own, see sipp_run) at nice NICE; an array,
# not a function, so that timeout and taskset can run it. Load generators
# and capture run so: dumpcap in deskpbx's group took its turns at
# deskpbx's weight, and a capture's timestamps are taken by the kernel as
# each packet is sent, whenever dumpcap gets to drain its 64 MB buffer.
APART=(setsid sh -c 'echo "$0" >/proc/self/autogroup 2>/dev/null; exec nice -n "$0" "$@"')

# sipp_run NAME SCENARIO REMOTE ARGS...: one bounded SIPp run in the
# foreground; sets SIPP_RC. Statistics in $WORK/NAME.stat. SCENARIO is a
# file in test/sipp, or an absolute path; SIPP_LPORT=PORT and
# SIPP_MPORT=PORT run it from these SIP and media ports instead of new ones;
# SIPP_NICE=N runs it at that nice level, LOAD_CPUS=LIST on those CPUs.
# SIPp runs in a session of its own, so that the kernel schedules it as a
# group apart from deskpbx (autogroup) and the nice level applies to the
# group: niced thread by thread, the 2,000 threads of a 2,000-call pcap
# play would still outweigh deskpbx's few threads together.
sipp_run() {
	local name=$1 scen=$2 remote=$3 lport=${SIPP_LPORT:-} mport=${SIPP_MPORT:-}
	shift 3
	[ -n "$lport" ] || free_port lport
	[ -n "$mport" ] || free_port mport
	[[ $scen == /* ]] || scen=$ROOT/test/sipp/$scen
	SIPP_RC=0
	timeout -k 10 $((BENCH_TIMEOUT + 60)) ${LOAD_CPUS:+taskset -c "$LOAD_CPUS"} "${APART[@]}" "${SIPP_NICE:-0}" sipp -nostdin -sf "$scen" \
		-i 127.0.0.1 -p "$lport" -mp "$mport" -t u1 \
		-timeout "${BENCH_TIMEOUT}s" -buff_size 1048576 \
		-trace_stat -stf "$WORK/$name.stat" -fd 5 \
		"$@" "$remote" >"$WORK/$name.out" 2>&1 || SIPP_RC=$?
}

# sipp_stat FILE COLUMN: the column's value on the last line of a -trace_stat file.
sipp_stat() {
	awk -F';' -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next } { last = $0 }
		END { if (!c || last == "") { print ""; exit } split(last, f, ";"); print f[c] }' "$1" 2>/dev/null
}
# elapsed FILE: seconds from SIPp's start to its last statistics line.
elapsed() {
	local s c
	s=$(sipp_stat "$1" "StartTime" | awk -F'\t' '{ print $3 }')
	c=$(sipp_stat "$1" "CurrentTime" | awk -F'\t' '{ print $3 }')
	awk -v s="$s" -v c="$c" 'BEGIN { if (s == "" || c == "") print 0; else printf "%.3f", c - s }'
}
num() { [[ $1 =~ ^[0-9]+$ ]] && echo "$1" || echo 0; }

# ---- results ----------------------------------------------------------------

REG_ROWS=()
REG_RATES=()
CALL_ROWS=()
NOTES=()
REG_FMT='%-18s %9s %9s %7s %8s %8s %8s %11s %9s %11s %9s\n'
CALL_FMT='%-18s %9s %9s %7s %8s %8s %8s %12s %9s %7s %12s %9s\n'

# heap_live ADDR: deskpbx's live heap in bytes after a forced GC, from its
# pprof listener's /debug/heap-live ("" when it has none: an older binary).
heap_live() {
	local v
	v=$(curl -fsS --max-time 60 "http://$1/debug/heap-live" 2>/dev/null || true)
	[[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo ""
}
cur_rss_mb() {
	awk '/^VmRSS:/ { printf "%.0f MB", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"
}
# pprof_addr VAR: VAR gets DESKPBX_PPROF_ADDR, or a free loopback address
# to pass as it (deskpbx then serves /debug/heap-live there).
pprof_addr() {
	local pprof_port # not p: free_port has a local of that name
	if [ -n "${DESKPBX_PPROF_ADDR:-}" ]; then
		printf -v "$1" '%s' "$DESKPBX_PPROF_ADDR"
	else
		free_port pprof_port
		printf -v "$1" '%s' "127.0.0.1:$pprof_port"
	fi
}
# heap_per HEAP0 HEAP1 N: KB of live heap per each of N things held.
heap_per() {
	if [ -n "$1" ] && [ -n "$2" ] && [ "$3" -gt 0 ]; then
		awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n / 1024 }'
	else
		echo -
	fi
}

# reg_load LABEL ADDR RSS_PID PID...: the registration load against ADDR;
# CPU counted over the PIDs given, peak RSS of RSS_PID ("" for none). With
# REG_PPROF (deskpbx's pprof address), also the live heap per registration
# held (BENCH_USERS of them) and the RSS then.
reg_load() {
	local label=$1 addr=$2 rsspid=$3 name t0 t1 ok bad retr el rss=- h0= h1= heap=- hrss=- rate cpu per
	shift 3
	name=reg-${label%% *}${REG_ROUND:+-$REG_ROUND}
	[ -n "${REG_PPROF:-}" ] && h0=$(heap_live "$REG_PPROF")
	note_load "$label"
	log "$label: $BENCH_N REGISTERs, $BENCH_USERS users in order, $BENCH_INFLIGHT in flight"
	t0=$(cpu_ticks "$@")
	sipp_run "$name" register.xml "$addr" -inf "$WORK/users.inf" \
		-r 100000 -rp 1000 -l "$BENCH_INFLIGHT" -m "$BENCH_N"
	t1=$(cpu_ticks "$@")
	[ -n "$rsspid" ] && rss=$(peak_rss_mb "$rsspid")
	if [ -n "${REG_PPROF:-}" ]; then
		# Answers to REGISTERs are kept for retransmissions for up to
		# twice sipgo's Timer J (5 s, pbx.TuneSIPStack; see pbx's
		# replyCache): what is left after that is the bindings' cost.
		sleep 11
		h1=$(heap_live "$REG_PPROF")
		heap=$(heap_per "$h0" "$h1" "$BENCH_USERS")
		hrss=$(cur_rss_mb "$rsspid")
	fi
	ok=$(num "$(sipp_stat "$WORK/$name.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/$name.stat" 'FailedCall(C)')")
	retr=$(num "$(sipp_stat "$WORK/$name.stat" 'Retransmissions(C)')")
	el=$(elapsed "$WORK/$name.stat")
	if [ "$SIPP_RC" != 0 ]; then
		NOTES+=("$label: SIPp exit status $SIPP_RC ($( [ "$SIPP_RC" = 1 ] && echo 'some registrations failed' || echo 'see the SIPp output'))")
	fi
	# reg/s and CPU µs per registration (0 when none): for the row, and
	# for the ratios of deskpbx's to Kamailio's (reg_ratios).
	read -r rate cpu per <<<"$(awk -v ok="$ok" -v el="$el" -v t="$((t1 - t0))" -v hz="$CLK_TCK" \
		'BEGIN { printf "%s %s %s", (el > 0 ? ok / el : 0), t / hz, (ok > 0 ? t / hz * 1e6 / ok : 0) }')"
	REG_RATES+=("$label $rate $per")
	REG_ROWS+=("$(awk -v l="$label" -v ok="$ok" -v bad="$bad" -v r="$retr" -v el="$el" -v rate="$rate" -v cpu="$cpu" -v per="$per" -v rss="$rss" -v heap="$heap" -v hrss="$hrss" -v fmt="$REG_FMT" \
		'BEGIN { printf fmt, l, (el > 0 ? sprintf("%.0f", rate) : "-"), ok, bad, r, sprintf("%.2fs", el), sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", per) : "-"), rss, heap, hrss }')")
}

bench_reg() {
	need_sipp
	local pp
	pprof_addr pp
	DESKPBX_PPROF_ADDR=$pp start_deskpbx "reg${REG_ROUND:+-$REG_ROUND}"
	# The live heap is measured in the first round only: it waits 11 s.
	[ "${REG_ROUND:-1}" = 1 ] || pp=
	REG_PPROF=$pp reg_load "deskpbx${REG_ROUND:+ #$REG_ROUND}" "$PBX_ADDR" "$PBX_PID" "$PBX_PID"
	stop_pid "$PBX_PID" deskpbx
}

# ---- Kamailio -----------------------------------------------------------------

ensure_kamailio() {
	if command -v kamailio >/dev/null 2>&1 && deb_installed kamailio-sqlite-modules && command -v sqlite3 >/dev/null 2>&1; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 || return 1
	# The package starts its stock config on port 5060, every address,
	# unless service starts are refused first.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null &&
			"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d && REMOVE_POLICY_RC=1
	fi
	log "installing kamailio, kamailio-sqlite-modules and sqlite3 (service start blocked by policy-rc.d)"
	local rc=0
	apt_install kamailio kamailio-sqlite-modules sqlite3 || rc=$?
	if [ "$REMOVE_POLICY_RC" = 1 ]; then
		"${sudo[@]}" rm -f /usr/sbin/policy-rc.d
		REMOVE_POLICY_RC=0
	fi
	return $rc
}

bench_kamailio() {
	need_sipp
	if ! ensure_kamailio; then
		NOTES+=("kamailio: could not be installed (apt-get install kamailio kamailio-sqlite-modules sqlite3): skipped")
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "skipped" - -)")
		return 0
	fi
	build_deskpbx # its healthcheck is our SIP OPTIONS probe
	make_users
	local kport db=$WORK/kamailio.db cfg=$WORK/kamailio.cfg version kpid n i pids
	free_port kport
	rm -f "$db"
	{
		cat scripts/kamailio/subscriber.sql
		echo "BEGIN;"
		for ((i = 0; i < BENCH_USERS; i++)); do
			n=$((FIRST_EXT + i))
			echo "INSERT INTO subscriber (username, domain, ha1) VALUES ('$n', '$DOMAIN', '$(printf '%s' "$n:$DOMAIN:bench-pw-$n" | md5sum | cut -d' ' -f1)');"
		done
		echo "COMMIT;"
	} | sqlite3 "$db"
	sed -e "s|@PORT@|$kport|" -e "s|@DB@|$db|" -e "s|@CHILDREN@|$KAM_CHILDREN|" scripts/kamailio/kamailio.cfg >"$cfg"
	mkdir -p "$WORK/kamailio-run"
	version=$(kamailio -v 2>/dev/null | awk '/^version:/ { print $3; exit }')
	if ! kamailio -c -f "$cfg" >"$WORK/kamailio-check.log" 2>&1; then
		NOTES+=("kamailio: config check failed, skipped (errors above)")
		tail -n 20 "$WORK/kamailio-check.log" >&2
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "failed" - -)")
		return 0
	fi
	kamailio -DD -E -f "$cfg" -Y "$WORK/kamailio-run" -P "$WORK/kamailio.pid" -m 256 -M 16 >"$WORK/kamailio.log" 2>&1 &
	kpid=$!
	STARTED+=("$kpid")
	if ! wait_ready "127.0.0.1:$kport" "$kpid" kamailio "$WORK/kamailio.log"; then
		NOTES+=("kamailio: did not start, skipped")
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "failed" - -)")
		stop_pid "$kpid" kamailio
		return 0
	fi
	# The main process and its workers (children) share the load.
	pids=("$kpid" $(children_of "$kpid"))
	reg_load "kamailio ${version:-?}${REG_ROUND:+ #$REG_ROUND}" "127.0.0.1:$kport" "" "${pids[@]}"
	stop_pid "$kpid" kamailio
}

# ---- calls --------------------------------------------------------------------

# call_hold PPROF: BENCH_CALL_HOLD calls from the callers, each held up
# 10 s by SIPp's pause; with all of them up, deskpbx's live heap less the
# one before. Sets HOLD_UP (calls up then), HOLD_HEAP (KB per call) and
# HOLD_RSS.
HOLD_UP=- HOLD_HEAP=- HOLD_RSS=-
call_hold() {
	local pp=$1 h0 h1 hpid lport mport ramp
	h0=$(heap_live "$pp")
	[ -n "$h0" ] || return 0 # no /debug/heap-live: an older binary
	free_port lport
	free_port mport
	log "calls: $BENCH_CALL_HOLD calls held up at once for deskpbx's live heap per call"
	(SIPP_LPORT=$lport SIPP_MPORT=$mport sipp_run calls-hold uac_auth.xml "$PBX_ADDR" -inf "$WORK/callers.inf" \
		-r 200 -rp 1000 -l "$BENCH_CALL_HOLD" -m "$BENCH_CALL_HOLD" -d 10000 -fd 1) &
	hpid=$!
	# All are set up after BENCH_CALL_HOLD/200 s; then 2 s to settle, still
	# well inside the 10 s each call is held.
	ramp=$(((BENCH_CALL_HOLD + 199) / 200 + 2))
	sleep "$ramp"
	h1=$(heap_live "$pp")
	HOLD_UP=$(num "$(sipp_stat "$WORK/calls-hold.stat" 'CurrentCall')")
	HOLD_RSS=$(cur_rss_mb "$PBX_PID")
	HOLD_HEAP=$(heap_per "$h0" "$h1" "$HOLD_UP")
	wait "$hpid" || true
	local failed
	failed=$(num "$(sipp_stat "$WORK/calls-hold.stat" 'FailedCall(C)')")
	[ "$failed" != 0 ] && NOTES+=("calls: $failed of the $BENCH_CALL_HOLD held calls failed ($WORK/calls-hold.out)")
	[ "$ramp" -ge 10 ] && NOTES+=("calls: BENCH_CALL_HOLD=$BENCH_CALL_HOLD takes ${ramp}s to set up, longer than calls are held: the heap figure counts fewer calls")
	return 0
}

bench_calls() {
	need_sipp
	local pp
	pprof_addr pp
	DESKPBX_PPROF_ADDR=$pp start_deskpbx calls
	local cport mport upid t0 t1 ok bad retr el uok rss
	# The callee: SIPp registers it, then a SIPp UAS on the same port
	# answers every call (180, 200, waits for the BYE).
	free_port cport
	free_port mport
	SIPP_RC=0
	timeout -k 10 120 sipp -nostdin -sf "$ROOT/test/sipp/register.xml" -i 127.0.0.1 -p "$cport" -mp "$mport" -t u1 \
		-inf "$WORK/callee.inf" -m 1 -timeout 60s -timeout_error -trace_stat -stf "$WORK/callee-reg.stat" \
		"$PBX_ADDR" >"$WORK/callee-reg.out" 2>&1 || SIPP_RC=$?
	if [ "$SIPP_RC" != 0 ]; then
		NOTES+=("calls: the callee could not register (SIPp exit status $SIPP_RC): skipped")
		stop_pid "$PBX_PID" deskpbx
		return 0
	fi
	free_port mport
	sipp -nostdin -sf "$ROOT/test/sipp/uas.xml" -i 127.0.0.1 -p "$cport" -mp "$mport" -t u1 \
		-m $((BENCH_CALLS + BENCH_CALL_HOLD)) -timeout "${BENCH_TIMEOUT}s" -buff_size 1048576 \
		-trace_stat -stf "$WORK/callee.stat" -fd 5 >"$WORK/callee.out" 2>&1 &
	upid=$!
	STARTED+=("$upid")
	if ! wait_bound "$cport" "$upid"; then
		NOTES+=("calls: the SIPp callee did not start: skipped")
		stop_pid "$PBX_PID" deskpbx
		return 0
	fi
	call_hold "$pp"
	note_load calls
	log "calls: $BENCH_CALLS calls from $((BENCH_USERS - 1)) callers (407 auth) to $FIRST_EXT, $BENCH_CALL_INFLIGHT in flight, no talk time"
	t0=$(cpu_ticks "$PBX_PID")
	sipp_run calls uac_auth.xml "$PBX_ADDR" -inf "$WORK/callers.inf" \
		-r 100000 -rp 1000 -l "$BENCH_CALL_INFLIGHT" -m "$BENCH_CALLS" -d 0
	t1=$(cpu_ticks "$PBX_PID")
	rss=$(peak_rss_mb "$PBX_PID")
	ok=$(num "$(sipp_stat "$WORK/calls.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/calls.stat" 'FailedCall(C)')")
	retr=$(num "$(sipp_stat "$WORK/calls.stat" 'Retransmissions(C)')")
	el=$(elapsed "$WORK/calls.stat")
	if [ "$SIPP_RC" != 0 ]; then
		NOTES+=("calls: caller SIPp exit status $SIPP_RC")
	fi
	# The callee ends by itself after -m calls (each waits 2 s for a
	# retransmitted BYE); if some calls never reached it, stop it.
	for _ in $(seq 150); do
		kill -0 "$upid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$upid" 2>/dev/null; then
		kill -USR1 "$upid" 2>/dev/null || true # SIPp: finish and dump statistics
		sleep 3
	fi
	stop_pid "$upid" "SIPp callee" 2>/dev/null
	uok=$(num "$(sipp_stat "$WORK/callee.stat" 'SuccessfulCall(C)')")
	NOTES+=("calls: the callee SIPp completed $uok calls")
	CALL_ROWS+=("$(awk -v ok="$ok" -v bad="$bad" -v r="$retr" -v el="$el" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v rss="$rss" -v up="$HOLD_UP" -v heap="$HOLD_HEAP" -v hrss="$HOLD_RSS" -v fmt="$CALL_FMT" \
		'BEGIN { cpu = t / hz; printf fmt, "deskpbx", (el > 0 ? sprintf("%.0f", ok / el) : "-"), ok, bad, r, sprintf("%.2fs", el), sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", cpu * 1e6 / ok) : "-"), rss, up, heap, hrss }')")
	stop_pid "$PBX_PID" deskpbx
}

# ---- media: concurrent *44 calls -------------------------------------------------

MEDIA_ROWS=()
MEDIA_FMT='%6s %7s %6s %6s %5s %8s %8s %9s %5s %9s %9s %7s %7s %11s %11s\n'
MEDIA_DIGITS=2580
MEDIA_DTMF_HOW=
MEDIA_LEAD=${BENCH_MEDIA_LEAD:-2s} # audio before the first key: *44's "press keys" prompt plays whole

TOOLS_BUILT=0
build_tools() {
	[ "$TOOLS_BUILT" = 1 ] && return 0
	log "building mkpcap and rtpjitter"
	go build -o "$WORK/mkpcap" ./internal/rtppcap/cmd/mkpcap
	go build -o "$WORK/rtpjitter" ./e2e/cmd/rtpjitter
	TOOLS_BUILT=1
}

# have_dumpcap: dumpcap (Debian tshark/wireshark-common) can capture on lo.
have_dumpcap() {
	if ! command -v dumpcap >/dev/null 2>&1; then
		log "installing tshark (for dumpcap)"
		apt_install tshark || return 1
	fi
	command -v dumpcap >/dev/null 2>&1
}

# log_seconds: HH:MM:SS.sss of a deskpbx log line's time= as seconds.
MEDIA_AWK_TIME='function secs(line,   t, h) { if (!match(line, /time=[0-9-]+T[0-9:.]+/)) return -1; t = substr(line, RSTART + 16, RLENGTH - 16); split(t, h, ":"); return h[1] * 3600 + h[2] * 60 + h[3] }'

# media_run N: N calls, deskpbx's media threads at real-time priority PBX_RT (0: normal).
media_run() {
	local n=$1 name=media-$1 cap capdump= t0 t1 ok bad peak cpu sched
	[ "$PBX_RT" = 0 ] && [ "$BENCH_RT_PRIORITY" != 0 ] && name=media-$1-normal
	local jit packets late_pct p99 max digits exact recs callsecs capnote= b0 a0 b1 a1 busy
	cap=$WORK/$name.pcap
	start_deskpbx "$name" $((2 * n + 64)) info
	sched=normal
	if [ "$PBX_RT" != 0 ]; then
		sched="rr $PBX_RT"
		if grep -q 'real-time scheduling refused' "$WORK/$name.log"; then
			sched="normal*"
			NOTES+=("media $n: deskpbx could not take real-time priority $PBX_RT (normal*): $(grep -o 'err="[^"]*"' "$WORK/$name.log" | head -n 1)")
		fi
	fi
	if [ "$HAVE_DUMPCAP" = 1 ]; then
		# Only what deskpbx sends (from its RTP ports), RTP header enough.
		${LOAD_CPUS:+taskset -c "$LOAD_CPUS"} "${APART[@]}" 19 dumpcap -q -i lo -P -s 64 -B 64 -f "udp src portrange $PBX_RTP_LO-$PBX_RTP_HI" -w "$cap" \
			>"$WORK/$name.dumpcap.log" 2>&1 &
		capdump=$!
		STARTED+=("$capdump")
		for _ in $(seq 100); do
			[ -s "$cap" ] && break
			kill -0 "$capdump" 2>/dev/null || break
			sleep 0.1
		done
		if ! [ -s "$cap" ]; then
			NOTES+=("media $n: dumpcap did not start capturing on lo: no pacing figures (see $WORK/$name.dumpcap.log)")
			kill "$capdump" 2>/dev/null || true
			capdump=
		fi
	fi
	note_load "media $n"
	log "media: $n calls to *44 at $BENCH_MEDIA_RATE/s, each keying $MEDIA_DIGITS# ($BENCH_MEDIA_DTMF) after $MEDIA_LEAD of audio"
	t0=$(cpu_ticks "$PBX_PID")
	read -r b0 a0 < <(stat_ticks)
	SIPP_NICE=$BENCH_MEDIA_NICE sipp_run "$name" "$MEDIA_SCEN" "$PBX_ADDR" -inf "$WORK/media.inf" "${MEDIA_KEY[@]}" -mi 127.0.0.1 \
		-r "$BENCH_MEDIA_RATE" -rp 1000 -l "$n" -m "$n" -fd 1
	t1=$(cpu_ticks "$PBX_PID")
	read -r b1 a1 < <(stat_ticks)
	busy=$(awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }')
	if [ -n "$capdump" ]; then
		kill -INT "$capdump" 2>/dev/null || true
		for _ in $(seq 100); do
			kill -0 "$capdump" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$capdump" 2>/dev/null || true
		wait "$capdump" 2>/dev/null || true
		# "Packets received/dropped on interface 'Loopback: lo': 3/0 (...)"
		capnote=$(sed -n 's|.*received/dropped on interface.*: [0-9]*/\([0-9]*\) .*|\1|p' "$WORK/$name.dumpcap.log" | awk '{ s += $1 } END { print s + 0 }')
		[ "${capnote:-0}" != 0 ] && NOTES+=("media $n: dumpcap dropped $capnote packets: the pacing figures are from a partial capture")
	fi
	ok=$(num "$(sipp_stat "$WORK/$name.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/$name.stat" 'FailedCall(C)')")
	peak=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "CurrentCall") c = i; next } c && $c > m { m = $c } END { print m + 0 }' "$WORK/$name.stat" 2>/dev/null)
	if [ "$SIPP_RC" != 0 ]; then
		NOTES+=("media $n: SIPp exit status $SIPP_RC ($WORK/$name.out)")
	fi
	stop_pid "$PBX_PID" deskpbx
	release_range "$PBX_RTP_LO" "$PBX_RTP_HI"
	# Digits: what deskpbx's *44 read back, against what every call keyed.
	recs=$(grep -c 'msg="dtmf test"' "$WORK/$name.log" || true)
	exact=$(awk -v want=" digits=$MEDIA_DIGITS " '/msg="dtmf test"/ && index($0, want) { n++ } END { print n + 0 }' "$WORK/$name.log")
	digits=$(awk '/msg="dtmf test"/ && match($0, / digits=[^ ]*/) { s += RLENGTH - 8 } END { print s + 0 }' "$WORK/$name.log")
	# Call time as deskpbx saw it: answered to ended, summed over calls.
	callsecs=$(awk "$MEDIA_AWK_TIME"'
		/msg="feature call answered"/ && match($0, /call_id=[^ ]+/) { a[substr($0, RSTART, RLENGTH)] = secs($0) }
		/msg="feature call ended"/ && match($0, /call_id=[^ ]+/) { id = substr($0, RSTART, RLENGTH); if (id in a) { d = secs($0) - a[id]; if (d < 0) d += 86400; s += d } }
		END { printf "%.1f", s }' "$WORK/$name.log")
	packets=- late_pct=- p99=- max=-
	if [ -s "$cap" ] && "$WORK/rtpjitter" -src-ports "$PBX_RTP_LO-$PBX_RTP_HI" "$cap" >"$WORK/$name.jitter" 2>&1; then
		jit=$WORK/$name.jitter
		packets=$(awk -F= '$1 == "packets" { print $2 }' "$jit")
		late_pct=$(awk -F= '$1 == "late_pct" { printf "%.2f%%", $2 }' "$jit")
		p99=$(awk -F= '$1 == "p99_ms" { print $2 }' "$jit")
		max=$(awk -F= '$1 == "max_ms" { print $2 }' "$jit")
	elif [ -s "$cap" ]; then
		NOTES+=("media $n: rtpjitter failed: $(tail -n 1 "$WORK/$name.jitter")")
	fi
	[ "${BENCH_KEEP:-}" = 1 ] || rm -f "$cap" # tens of MB at 1,000 calls
	MEDIA_ROWS+=("$(awk -v n="$n" -v ok="$ok" -v bad="$bad" -v peak="$peak" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v cs="$callsecs" \
		-v pk="$packets" -v lp="$late_pct" -v p99="$p99" -v mx="$max" -v d="$digits" -v sent="$((n * ${#MEDIA_DIGITS}))" -v ex="$exact" -v recs="$recs" -v fmt="$MEDIA_FMT" -v busy="$busy" -v sched="$sched" \
		'BEGIN { cpu = t / hz; printf fmt, n, sched, ok, bad, peak, sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", cpu * 1000 / ok) : "-"),
			(cs > 0 ? sprintf("%.3f%%", 100 * cpu / cs) : "-"), busy, pk, lp, p99, mx, d "/" sent, ex "/" n }')")
	[ "$recs" != "$n" ] && NOTES+=("media $n: deskpbx logged $recs \"dtmf test\" records for $n calls")
	return 0
}

bench_media() {
	need_sipp
	build_deskpbx
	build_tools
	make_users
	HAVE_DUMPCAP=0
	if [ "$(id -u)" = 0 ] && have_dumpcap; then
		HAVE_DUMPCAP=1
	else
		NOTES+=("media: no packet capture (needs root and dumpcap from tshark): no pacing figures")
	fi
	# Every bench user calls *44 in turn.
	{ echo SEQUENTIAL; sed -n '2,$p' "$WORK/users.inf" | sed 's/;[^;]*$/;*44/'; } >"$WORK/media.inf"
	case "$BENCH_MEDIA_DTMF" in
	rfc4733)
		"$WORK/mkpcap" -mode rfc4733 -audio -lead "$MEDIA_LEAD" -digits "$MEDIA_DIGITS#" -o "$WORK/media.pcap"
		MEDIA_SCEN=uac_auth_pcap.xml MEDIA_KEY=(-key dtmf "$WORK/media.pcap")
		MEDIA_DTMF_HOW="RFC 4733 telephone-events, SIPp play_pcap_audio"
		;;
	inband)
		# Silence after the keys until deskpbx hangs up, as a phone
		# goes on sending while it listens to the readback.
		"$WORK/mkpcap" -mode inband -raw -lead "$MEDIA_LEAD" -digits "$MEDIA_DIGITS#" -tail 20s -o "$WORK/media.ul"
		sed -e 's|\[media_port\]|[rtpstream_audio_port]|' -e "s|play_pcap_audio=\"\[dtmf\]\"|rtp_stream=\"$WORK/media.ul,1,0\"|" \
			test/sipp/uac_auth_pcap.xml >"$WORK/uac_auth_media.xml"
		MEDIA_SCEN=$WORK/uac_auth_media.xml MEDIA_KEY=()
		MEDIA_DTMF_HOW="in-band G.711 tones in a SIPp rtp_stream that runs the whole call"
		;;
	*)
		echo "bench: BENCH_MEDIA_DTMF is inband or rfc4733, not $BENCH_MEDIA_DTMF" >&2
		exit 2
		;;
	esac
	local n
	if [ "$BENCH_MEDIA_PIN" = 1 ]; then
		if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null 2>&1; then
			NOTES+=("media: BENCH_MEDIA_PIN=1 needs 2 CPUs and taskset: not pinned")
		else
			PBX_CPUS=0 LOAD_CPUS=1-$(($(nproc) - 1))
			PBX_PIN_NOTE="pinned: deskpbx alone on CPU 0, SIPp and dumpcap on CPUs $LOAD_CPUS (BENCH_MEDIA_PIN=1)."
		fi
	fi
	for n in $BENCH_MEDIA_N; do
		media_run "$n"
	done
	if [ "$BENCH_RT_PRIORITY" != 0 ]; then
		PBX_RT=0
		for n in $BENCH_MEDIA_NORMAL_N; do
			media_run "$n"
		done
		PBX_RT=$BENCH_RT_PRIORITY
	fi
	PBX_CPUS= LOAD_CPUS=
}

# ---- logins: a storm of *072 ----------------------------------------------------

LOGIN_ROWS=()
LOGIN_FMT='%7s %8s %7s %6s %8s %8s %8s %8s %8s %8s\n'
LOGIN_ID0=8800000 # hot-desk IDs LOGIN_ID0 + i
LOGIN_PIN=4826

# login_entries: the persons' hot-desk entries, one CLI command each, as an admin would.
login_entries() {
	local i
	for ((i = 0; i < BENCH_LOGINS; i++)); do
		"$DESKPBX" hotdesk add -db "$PBX_DB" -id $((LOGIN_ID0 + i)) -password "$LOGIN_PIN" "$DOMAIN" $((FIRST_EXT + BENCH_LOGINS + i)) >/dev/null
	done
}

# login_scenario FIRST COUNT FILE: uac_auth_pcap.xml with its one pcap
# replaced by a choice of one pcap per seat, FIRST to FIRST+COUNT-1, by the
# call's field4. SIPp 3.6 cannot take a pcap file from a variable, so each
# seat gets its own branch; and it refuses scenario files over 64 KiB, so
# a SIPp process takes at most LOGIN_GROUP seats. FILE goes in
# $WORK/login, next to the pcaps, where SIPp looks for them first.
LOGIN_GROUP=200
login_scenario() {
	local first=$1 count=$2 out=$3 xml block dispatch i
	xml=$(<"$ROOT/test/sipp/uac_auth_pcap.xml")
	block='  <nop>
    <action>
      <exec play_pcap_audio="[dtmf]"/>
    </action>
  </nop>'
	if [[ $xml != *"$block"* ]]; then
		echo "bench: test/sipp/uac_auth_pcap.xml no longer has the play_pcap_audio block the logins part replaces" >&2
		return 1
	fi
	dispatch='  <nop><action><assignstr assign_to="seat" value="[field4]"/><todouble assign_to="k" variable="seat"/></action></nop>
'
	for ((i = first; i < first + count; i++)); do
		dispatch+="<nop><action><test assign_to=\"hit\" variable=\"k\" compare=\"equal\" value=\"$i\"/></action></nop><nop next=\"s$i\" test=\"hit\"/>
"
	done
	dispatch+='  <nop next="played"/>
'
	for ((i = first; i < first + count; i++)); do
		dispatch+="<label id=\"s$i\"/><nop><action><exec play_pcap_audio=\"$i.pcap\"/></action></nop><nop next=\"played\"/>
"
	done
	dispatch+='  <label id="played"/>'
	printf '%s\n' "${xml/"$block"/"$dispatch"}" >"$out"
	if [ "$(wc -c <"$out")" -gt 65000 ]; then
		echo "bench: $out is over SIPp's 64 KiB scenario limit: lower LOGIN_GROUP" >&2
		return 1
	fi
}

bench_logins() {
	need_sipp
	build_deskpbx
	build_tools
	if [ "$BENCH_USERS" -lt $((2 * BENCH_LOGINS)) ]; then
		NOTES+=("logins: BENCH_USERS ($BENCH_USERS) must be at least 2 x BENCH_LOGINS ($BENCH_LOGINS): skipped")
		return 0
	fi
	make_users
	local i g first count seat t0 t1 ok=0 bad=0 reg=0 rc live refused failed lat p50 p99 max groups pids=()
	local -a lport mport seats
	mkdir -p "$WORK/login"
	for ((i = 0; i < BENCH_LOGINS; i++)); do
		"$WORK/mkpcap" -mode rfc4733 -audio -lead 500ms -digits "$((LOGIN_ID0 + i))#$LOGIN_PIN#" -o "$WORK/login/$i.pcap"
	done
	# Seats are the first BENCH_LOGINS users, the persons the next ones;
	# group g of seats is one SIPp process, its seats registered from the
	# port their *072 calls then come from.
	groups=$(((BENCH_LOGINS + LOGIN_GROUP - 1) / LOGIN_GROUP))
	for ((g = 0; g < groups; g++)); do
		first=$((g * LOGIN_GROUP))
		count=$((BENCH_LOGINS - first < LOGIN_GROUP ? BENCH_LOGINS - first : LOGIN_GROUP))
		{ echo SEQUENTIAL; sed -n "$((first + 2)),$((first + count + 1))p" "$WORK/users.inf"; } >"$WORK/seats-$g.inf"
		{
			echo SEQUENTIAL
			for ((i = first; i < first + count; i++)); do
				seat=$((FIRST_EXT + i))
				echo "$seat;$DOMAIN;[authentication username=$seat password=bench-pw-$seat];*072;$i"
			done
		} >"$WORK/logins-$g.inf"
		login_scenario "$first" "$count" "$WORK/login/logins-$g.xml"
		seats[g]=$count
		free_port "lport[$g]"
		free_port "mport[$g]"
	done
	log "logins: $BENCH_LOGINS hot-desk entries (deskpbx hotdesk add)"
	start_deskpbx logins $((2 * BENCH_LOGINS + 64)) info login_entries
	for ((g = 0; g < groups; g++)); do
		SIPP_LPORT=${lport[$g]} sipp_run "logins-register-$g" register.xml "$PBX_ADDR" -inf "$WORK/seats-$g.inf" \
			-r 1000 -rp 1000 -l "${seats[$g]}" -m "${seats[$g]}"
		reg=$((reg + $(num "$(sipp_stat "$WORK/logins-register-$g.stat" 'SuccessfulCall(C)')")))
	done
	[ "$reg" != "$BENCH_LOGINS" ] && NOTES+=("logins: only $reg of $BENCH_LOGINS seats registered")
	note_load logins
	log "logins: $BENCH_LOGINS seats dial *072 at once ($groups SIPp), each keying its own ID#PIN# (RFC 4733)"
	t0=$(cpu_ticks "$PBX_PID")
	for ((g = 0; g < groups; g++)); do
		(
			SIPP_LPORT=${lport[$g]} SIPP_MPORT=${mport[$g]} sipp_run "logins-$g" "$WORK/login/logins-$g.xml" "$PBX_ADDR" \
				-inf "$WORK/logins-$g.inf" -mi 127.0.0.1 -r 1000 -rp 1000 -l "${seats[$g]}" -m "${seats[$g]}" -fd 1
			echo "$SIPP_RC" >"$WORK/logins-$g.rc"
		) &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || true; done
	t1=$(cpu_ticks "$PBX_PID")
	for ((g = 0; g < groups; g++)); do
		ok=$((ok + $(num "$(sipp_stat "$WORK/logins-$g.stat" 'SuccessfulCall(C)')")))
		bad=$((bad + $(num "$(sipp_stat "$WORK/logins-$g.stat" 'FailedCall(C)')")))
		rc=$(cat "$WORK/logins-$g.rc" 2>/dev/null || echo '?')
		[ "$rc" != 0 ] && NOTES+=("logins: SIPp $g exit status $rc ($WORK/logins-$g.out)")
	done
	stop_pid "$PBX_PID" deskpbx
	release_range "$PBX_RTP_LO" "$PBX_RTP_HI"
	live=$(grep -c 'msg="hot-desk session live"' "$WORK/logins.log" || true)
	refused=$(grep -c 'msg="hot-desk attempt refused"' "$WORK/logins.log" || true)
	failed=$(grep -c 'msg="hot-desk flow failed"' "$WORK/logins.log" || true)
	lat=$(awk '/msg="hot-desk session live"/ && match($0, /after_final_key_us=[0-9]+/) { print substr($0, RSTART + 19, RLENGTH - 19) }' "$WORK/logins.log" | sort -n |
		awk '{ v[NR - 1] = $1 } END { if (NR == 0) { print "- - -"; exit }
			i50 = int(0.5 * NR); i99 = int(0.99 * NR); if (i99 > NR - 1) i99 = NR - 1
			printf "%.1f %.1f %.1f", v[i50] / 1000, v[i99] / 1000, v[NR - 1] / 1000 }')
	read -r p50 p99 max <<<"$lat"
	LOGIN_ROWS+=("$(printf "$LOGIN_FMT" "$BENCH_LOGINS" "$ok" "$bad" "$live" "$refused" "$failed" "$p50" "$p99" "$max" \
		"$(awk -v t="$((t1 - t0))" -v hz="$CLK_TCK" 'BEGIN { printf "%.2fs", t / hz }')")")
}

# ---- Go benchmarks ----------------------------------------------------------------

bench_go() {
	log "go test -bench (benchtime $BENCH_GOTIME)"
	# e2e has no benchmarks (and its TestMain builds the binary): leave it out.
	mapfile -t pkgs < <(go list ./... | grep -v '/e2e$')
	go test -run '^$' -bench . -benchmem -benchtime "$BENCH_GOTIME" -count 1 -timeout 15m "${pkgs[@]}" | tee "$WORK/go-bench.txt"
}

# ---- trunk and voicemail: in files of their own ------------------------------------

# shellcheck source=scripts/bench/trunk.sh
. "$ROOT/scripts/bench/trunk.sh"
# shellcheck source=scripts/bench/voicemail.sh
. "$ROOT/scripts/bench/voicemail.sh"

# reg_ratios: deskpbx's reg/s over Kamailio's, for each deskpbx run and
# the Kamailio run that follows it, and their median; and Kamailio's CPU
# per registration over deskpbx's.
reg_ratios() {
	printf '%s\n' "${REG_RATES[@]}" | awk '
		$1 == "deskpbx" { d = $(NF - 1); dc = $NF; next }
		$1 == "kamailio" && d > 0 && $(NF - 1) > 0 {
			n++; r[n] = d / $(NF - 1); c[n] = $NF / dc
			line = line sprintf(" %.2f×", r[n]); cl = cl sprintf(" %.2f×", c[n]); d = 0
		}
		function median(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END {
			if (n == 0) exit
			printf "deskpbx / Kamailio, reg/s:%s%s\n", line, (n > 1 ? sprintf(" (median %.2f×)", median(r, n)) : "")
			printf "Kamailio / deskpbx, CPU per registration:%s%s\n", cl, (n > 1 ? sprintf(" (median %.2f×)", median(c, n)) : "")
		}'
}

# ---- main ---------------------------------------------------------------------

echo "deskpbx bench: $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(go version | awk '{ print $3 }')"
if [ "$BENCH_RT_PRIORITY" != 0 ]; then
	echo "deskpbx paces and reads RTP under real-time scheduling, SCHED_RR at $BENCH_RT_PRIORITY, as the packaged service does (BENCH_RT_PRIORITY=0: normal)."
fi
# Both registrars: BENCH_REG_ROUNDS rounds, each deskpbx then Kamailio.
reg_rounds=
if [ "$BENCH_REG_ROUNDS" -gt 1 ] && [[ " ${parts[*]} " == *" reg "* ]] && [[ " ${parts[*]} " == *" kamailio "* ]]; then
	reg_rounds=$BENCH_REG_ROUNDS
fi
for p in "${parts[@]}"; do
	case $p in
	reg) if [ -n "$reg_rounds" ]; then
		for ((REG_ROUND = 1; REG_ROUND <= reg_rounds; REG_ROUND++)); do
			bench_reg
			bench_kamailio
		done
		unset REG_ROUND
	else
		bench_reg
	fi ;;
	kamailio) [ -n "$reg_rounds" ] || bench_kamailio ;;
	calls) bench_calls ;;
	media) bench_media ;;
	logins) bench_logins ;;
	trunk) bench_trunk ;;
	voicemail) bench_voicemail ;;
	go) bench_go ;;
	esac
done

echo
if [ ${#REG_ROWS[@]} -gt 0 ]; then
	echo "Registrations: REGISTER with digest (401, then 200), $BENCH_N in all, $BENCH_USERS users in order, $BENCH_INFLIGHT in flight, SIPp $(sipp -v 2>/dev/null | awk '/SIPp v/ { sub(/\.$/, "", $2); print $2; exit }')"
	echo "heap KB/reg: deskpbx's live heap after a forced GC (runtime/metrics) with the $BENCH_USERS registrations held, less before the load,"
	echo "per registration; RSS: its resident memory then, with the shipped GOGC and memory limit."
	printf "$REG_FMT" server "reg/s" ok failed retrans elapsed CPU "CPU µs/reg" "peak RSS" "heap KB/reg" RSS
	printf '%s\n' "${REG_ROWS[@]}"
	reg_ratios
	echo
fi
if [ ${#CALL_ROWS[@]} -gt 0 ]; then
	echo "Call setups: INVITE, 407, INVITE with credentials, B2BUA to a SIPp UAS, 200, ACK, BYE; $BENCH_CALLS calls, $BENCH_CALL_INFLIGHT in flight"
	echo "held: calls up at once (of BENCH_CALL_HOLD=$BENCH_CALL_HOLD, before the timed run); heap KB/call: deskpbx's live heap after a forced GC"
	echo "(runtime/metrics) with them up, less before, per call; RSS: its resident memory then, shipped GOGC and memory limit."
	printf "$CALL_FMT" server "calls/s" ok failed retrans elapsed CPU "CPU µs/call" "peak RSS" held "heap KB/call" RSS
	printf '%s\n' "${CALL_ROWS[@]}"
	echo
fi
if [ ${#MEDIA_ROWS[@]} -gt 0 ]; then
	echo "Media: calls to *44 (DTMF test), at most all in flight, $BENCH_MEDIA_RATE new/s; each sends $MEDIA_LEAD of PCMU then keys $MEDIA_DIGITS# ($MEDIA_DTMF_HOW)"
	echo "and hears deskpbx's prompt and read-back. CPU: deskpbx's, per call and as a share of one core per call in progress."
	echo "sched: how deskpbx's pacers and pollers are scheduled: \"rr N\" real-time (SCHED_RR) at priority N, as the packaged service runs them; normal: as any thread."
	echo "box: the whole machine's busy share during the run (SIPp's own scheduling group at nice $BENCH_MEDIA_NICE, dumpcap and others included: $(nproc) cores)."
	[ -n "$PBX_PIN_NOTE" ] && echo "$PBX_PIN_NOTE"
	echo "late: deskpbx's RTP packets sent more than 5 ms after their 20 ms slot (capture on lo, e2e/cmd/rtpjitter, lateness"
	echo "within each talkspurt); digits: read back by *44 / keyed; exact: calls whose read-back was exactly $MEDIA_DIGITS."
	printf "$MEDIA_FMT" calls sched ok failed peak CPU "ms/call" "core/call" box "RTP pkts" "late>5ms" "p99 ms" "max ms" digits exact
	printf '%s\n' "${MEDIA_ROWS[@]}"
	echo
fi
if [ ${#LOGIN_ROWS[@]} -gt 0 ]; then
	echo "Login storm: $BENCH_LOGINS registered seats dial *072 (SIPp at 1,000 calls/s, $LOGIN_GROUP seats per SIPp), each keying its own ID#PIN# as RFC 4733 (a pcap per seat)."
	echo "live: \"hot-desk session live\" log records; latency: after_final_key_us (final # to committed session) from deskpbx's log"
	printf "$LOGIN_FMT" logins "SIPp ok" failed live refused "flow err" "p50 ms" "p99 ms" "max ms" CPU
	printf '%s\n' "${LOGIN_ROWS[@]}"
	echo
fi
trunk_print
voicemail_print
if [ ${#NOTES[@]} -gt 0 ]; then
	printf 'note: %s\n' "${NOTES[@]}"
fi
