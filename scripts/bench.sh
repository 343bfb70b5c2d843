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
#   (parts combine: scripts/bench.sh reg kamailio)
#
# Sizing (environment):
#   BENCH_N=100000        REGISTERs per registrar run
#   BENCH_USERS=1000      extensions provisioned (ext import) and registered, in order
#   BENCH_INFLIGHT=200    REGISTERs in flight (SIPp -l)
#   BENCH_CALLS=N/20      calls in the calls run (default 5000)
#   BENCH_CALL_INFLIGHT=100  calls in flight
#   BENCH_TIMEOUT=300     seconds each SIPp run may take at most
#   BENCH_GOTIME=200ms    -benchtime for the Go benchmarks
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
BENCH_CALLS=${BENCH_CALLS:-$((BENCH_N / 20))}
BENCH_CALL_INFLIGHT=${BENCH_CALL_INFLIGHT:-100}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-300}
BENCH_GOTIME=${BENCH_GOTIME:-200ms}
DOMAIN=bench.example
FIRST_EXT=10000
KAM_CHILDREN=4

for v in BENCH_N BENCH_USERS BENCH_INFLIGHT BENCH_CALLS BENCH_CALL_INFLIGHT BENCH_TIMEOUT; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "bench: $v must be a positive integer, got '${!v}'" >&2
		exit 2
	fi
done
if [ "$BENCH_USERS" -lt 2 ]; then
	echo "bench: BENCH_USERS must be at least 2 (one callee, callers)" >&2
	exit 2
fi

parts=("$@")
if [ ${#parts[@]} -eq 0 ] || [ "${parts[0]}" = all ]; then
	parts=(reg kamailio calls go)
fi
for p in "${parts[@]}"; do
	case $p in
	reg | kamailio | calls | go) ;;
	*)
		echo "usage: scripts/bench.sh [all|reg|kamailio|calls|go]..." >&2
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
# TCP) on this machine, below the kernel's ephemeral range.
free_port() {
	local var=$1 n=${2:-1} used p i ok
	used=$(used_ports)
	for _ in $(seq 1000); do
		p=$((20000 + RANDOM % 12000))
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

PBX_PID= PBX_ADDR=
# start_deskpbx NAME: a fresh database with the bench users, deskpbx serving it.
start_deskpbx() {
	local name=$1 db=$WORK/$1.db port hport rtp
	build_deskpbx
	make_users
	"$DESKPBX" tenant add -db "$db" "$DOMAIN" >/dev/null
	"$DESKPBX" ext import -db "$db" "$WORK/users.csv" >/dev/null
	free_port port
	free_port hport
	free_port rtp 100
	PBX_ADDR=127.0.0.1:$port
	"$DESKPBX" serve -db "$db" -sip-addr "$PBX_ADDR" -http-addr "127.0.0.1:$hport" \
		-rtp-ports "$rtp-$((rtp + 99))" -log-level warn >"$WORK/$name.log" 2>&1 &
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

# sipp_run NAME SCENARIO REMOTE ARGS...: one bounded SIPp run in the
# foreground; sets SIPP_RC. Statistics in $WORK/NAME.stat.
sipp_run() {
	local name=$1 scen=$2 remote=$3 lport mport
	shift 3
	free_port lport
	free_port mport
	SIPP_RC=0
	timeout -k 10 $((BENCH_TIMEOUT + 60)) sipp -nostdin -sf "$ROOT/test/sipp/$scen" \
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
CALL_ROWS=()
NOTES=()
REG_FMT='%-18s %9s %9s %7s %8s %8s %8s %11s %9s\n'
CALL_FMT='%-18s %9s %9s %7s %8s %8s %8s %12s %9s\n'

# reg_load LABEL ADDR RSS_PID PID...: the registration load against ADDR;
# CPU counted over the PIDs given, peak RSS of RSS_PID ("" for none).
reg_load() {
	local label=$1 addr=$2 rsspid=$3 name t0 t1 ok bad retr el rss=-
	shift 3
	name=reg-${label%% *}
	note_load "$label"
	log "$label: $BENCH_N REGISTERs, $BENCH_USERS users in order, $BENCH_INFLIGHT in flight"
	t0=$(cpu_ticks "$@")
	sipp_run "$name" register.xml "$addr" -inf "$WORK/users.inf" \
		-r 100000 -rp 1000 -l "$BENCH_INFLIGHT" -m "$BENCH_N"
	t1=$(cpu_ticks "$@")
	[ -n "$rsspid" ] && rss=$(peak_rss_mb "$rsspid")
	ok=$(num "$(sipp_stat "$WORK/$name.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/$name.stat" 'FailedCall(C)')")
	retr=$(num "$(sipp_stat "$WORK/$name.stat" 'Retransmissions(C)')")
	el=$(elapsed "$WORK/$name.stat")
	if [ "$SIPP_RC" != 0 ]; then
		NOTES+=("$label: SIPp exit status $SIPP_RC ($( [ "$SIPP_RC" = 1 ] && echo 'some registrations failed' || echo 'see the SIPp output'))")
	fi
	REG_ROWS+=("$(awk -v l="$label" -v ok="$ok" -v bad="$bad" -v r="$retr" -v el="$el" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v rss="$rss" -v fmt="$REG_FMT" \
		'BEGIN { cpu = t / hz; printf fmt, l, (el > 0 ? sprintf("%.0f", ok / el) : "-"), ok, bad, r, sprintf("%.2fs", el), sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", cpu * 1e6 / ok) : "-"), rss }')")
}

bench_reg() {
	need_sipp
	start_deskpbx reg
	reg_load "deskpbx" "$PBX_ADDR" "$PBX_PID" "$PBX_PID"
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
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "skipped")")
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
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "failed")")
		return 0
	fi
	kamailio -DD -E -f "$cfg" -Y "$WORK/kamailio-run" -P "$WORK/kamailio.pid" -m 256 -M 16 >"$WORK/kamailio.log" 2>&1 &
	kpid=$!
	STARTED+=("$kpid")
	if ! wait_ready "127.0.0.1:$kport" "$kpid" kamailio "$WORK/kamailio.log"; then
		NOTES+=("kamailio: did not start, skipped")
		REG_ROWS+=("$(printf "$REG_FMT" kamailio - - - - - - - "failed")")
		stop_pid "$kpid" kamailio
		return 0
	fi
	# The main process and its workers (children) share the load.
	pids=("$kpid" $(children_of "$kpid"))
	reg_load "kamailio ${version:-?}" "127.0.0.1:$kport" "" "${pids[@]}"
	stop_pid "$kpid" kamailio
}

# ---- calls --------------------------------------------------------------------

bench_calls() {
	need_sipp
	start_deskpbx calls
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
		-m "$BENCH_CALLS" -timeout "${BENCH_TIMEOUT}s" -buff_size 1048576 \
		-trace_stat -stf "$WORK/callee.stat" -fd 5 >"$WORK/callee.out" 2>&1 &
	upid=$!
	STARTED+=("$upid")
	if ! wait_bound "$cport" "$upid"; then
		NOTES+=("calls: the SIPp callee did not start: skipped")
		stop_pid "$PBX_PID" deskpbx
		return 0
	fi
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
	CALL_ROWS+=("$(awk -v ok="$ok" -v bad="$bad" -v r="$retr" -v el="$el" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v rss="$rss" -v fmt="$CALL_FMT" \
		'BEGIN { cpu = t / hz; printf fmt, "deskpbx", (el > 0 ? sprintf("%.0f", ok / el) : "-"), ok, bad, r, sprintf("%.2fs", el), sprintf("%.2fs", cpu), (ok > 0 ? sprintf("%.1f", cpu * 1e6 / ok) : "-"), rss }')")
	stop_pid "$PBX_PID" deskpbx
}

# ---- Go benchmarks ----------------------------------------------------------------

bench_go() {
	log "go test -bench (benchtime $BENCH_GOTIME)"
	# e2e has no benchmarks (and its TestMain builds the binary): leave it out.
	mapfile -t pkgs < <(go list ./... | grep -v '/e2e$')
	go test -run '^$' -bench . -benchmem -benchtime "$BENCH_GOTIME" -count 1 -timeout 15m "${pkgs[@]}" | tee "$WORK/go-bench.txt"
}

# ---- main ---------------------------------------------------------------------

echo "deskpbx bench: $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(go version | awk '{ print $3 }')"
for p in "${parts[@]}"; do
	case $p in
	reg) bench_reg ;;
	kamailio) bench_kamailio ;;
	calls) bench_calls ;;
	go) bench_go ;;
	esac
done

echo
if [ ${#REG_ROWS[@]} -gt 0 ]; then
	echo "Registrations: REGISTER with digest (401, then 200), $BENCH_N in all, $BENCH_USERS users in order, $BENCH_INFLIGHT in flight, SIPp $(sipp -v 2>/dev/null | awk '/SIPp v/ { sub(/\.$/, "", $2); print $2; exit }')"
	printf "$REG_FMT" server "reg/s" ok failed retrans elapsed CPU "CPU µs/reg" "peak RSS"
	printf '%s\n' "${REG_ROWS[@]}"
	echo
fi
if [ ${#CALL_ROWS[@]} -gt 0 ]; then
	echo "Call setups: INVITE, 407, INVITE with credentials, B2BUA to a SIPp UAS, 200, ACK, BYE; $BENCH_CALLS calls, $BENCH_CALL_INFLIGHT in flight"
	printf "$CALL_FMT" server "calls/s" ok failed retrans elapsed CPU "CPU µs/call" "peak RSS"
	printf '%s\n' "${CALL_ROWS[@]}"
	echo
fi
if [ ${#NOTES[@]} -gt 0 ]; then
	printf 'note: %s\n' "${NOTES[@]}"
fi
