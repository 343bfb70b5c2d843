# shellcheck shell=bash
# Sourced by scripts/bench.sh (its helpers: start_deskpbx, sipp_run, ...):
# the voicemail part, issue #9's "Measured". Three blocks of BENCH_VM_N
# extensions with a voicemail PIN, none registered: callers, mailboxes
# listened to, mailboxes left to.
#
#  1. fill: every caller leaves a message in a mailbox of the listened
#     block (not measured: it gives the listeners something to hear);
#  2. measured, both at once: every caller leaves a message in a mailbox
#     of the other block, while every owner of a filled mailbox dials
#     *97, keys the PIN and 1 (RFC 4733) and hears the message.
#
# A message is BENCH_VM_TALK s of real speech (espeak-ng, µ-law) after
# 10 s of silence while the greeting and beep play; the caller then hangs
# up, which ends the recording. Figures: deskpbx's CPU per call, the
# pacing of every RTP packet deskpbx sent (prompts, greetings, playback:
# capture on lo, rtpjitter as in the media part), and the voicemail
# directory's bytes per minute of message. Checked and noted: every
# message is there with about its expected length, and every listened
# message was played (it moves to saved when it starts to play).

BENCH_VM_N=${BENCH_VM_N:-100}
BENCH_VM_TALK=${BENCH_VM_TALK:-20}
BENCH_VM_NICE=${BENCH_VM_NICE:-$BENCH_MEDIA_NICE}
need_positive BENCH_VM_N BENCH_VM_TALK # (trunk.sh, sourced first)
if [ "$BENCH_VM_N" -gt 1000 ]; then
	echo "bench: BENCH_VM_N must be at most 1000 (three blocks of extensions)" >&2
	exit 2
fi

VM_CALLER0=40000 # callers VM_CALLER0 + i
VM_HEARD0=50000  # mailboxes filled first, then listened to
VM_LEFT0=60000   # mailboxes left to while the others listen
VM_PIN=4826
VM_LEAD=10       # seconds of silence before the speech: greeting and beep
VM_LISTEN_MS=46000
VM_ROWS=()
VM_FMT='%5s %9s %9s %8s %8s %9s %5s %9s %8s %7s %7s %10s %11s\n'

# build_talkpcap: e2e/cmd/talkpcap, the pcaps of whole calls.
build_talkpcap() {
	[ -x "$WORK/talkpcap" ] || go build -o "$WORK/talkpcap" ./e2e/cmd/talkpcap
}

vm_setup() { # start_deskpbx's SETUP: the three blocks, with voicemail PINs
	local i n
	{
		echo "domain,number,password,pin,name"
		for ((i = 0; i < BENCH_VM_N; i++)); do
			for n in $((VM_CALLER0 + i)) $((VM_HEARD0 + i)) $((VM_LEFT0 + i)); do
				echo "$DOMAIN,$n,bench-pw-$n,$VM_PIN,Bench $n"
			done
		done
	} >"$WORK/vm-users.csv"
	"$DESKPBX" ext import -db "$PBX_DB" "$WORK/vm-users.csv" >/dev/null
}

# vm_inf FILE FROM0 TO: SIPp injection lines, caller FROM0+i dialling
# TO0+i (TO a number) or TO itself (a feature code).
vm_inf() {
	local i n to
	{
		echo SEQUENTIAL
		for ((i = 0; i < BENCH_VM_N; i++)); do
			n=$(($2 + i))
			to=$3
			[[ $to == \** ]] || to=$(($3 + i))
			echo "$n;$DOMAIN;[authentication username=$n password=bench-pw-$n];$to"
		done
	} >"$1"
}

# vm_speech FILE: BENCH_VM_TALK s of speech as raw µ-law.
vm_speech() {
	espeak-ng -s 150 --stdout "Hello, this is a message for the deskpbx benchmark. Please call me back about the order \
of forty chairs and twelve desks for the new office on the third floor. The delivery is planned for Thursday morning, \
and the driver needs someone at the loading bay to sign for it. Thank you, and have a good day." >"$WORK/vm-speech.wav"
	sox "$WORK/vm-speech.wav" -r 8000 -c 1 -e u-law -t raw "$1" repeat 9 trim 0 "$BENCH_VM_TALK"
}

# vm_wav_secs FILE...: each WAV's length in seconds (8 kHz 16-bit mono, 44-byte header).
vm_wav_secs() {
	local f
	for f in "$@"; do
		echo $((($(stat -c %s "$f") - 44) / 16)) | awk '{ printf "%.2f\n", $1 / 1000 }'
	done
}

bench_voicemail() {
	need_sipp
	build_deskpbx
	build_tools
	build_talkpcap
	make_users
	if ! command -v espeak-ng >/dev/null 2>&1 || ! command -v sox >/dev/null 2>&1; then
		NOTES+=("voicemail: needs espeak-ng and sox (the callers' speech): skipped")
		return 0
	fi
	local n=$BENCH_VM_N cap=$WORK/vm.pcap t0 t1 b0 a0 b1 a1 busy lport mport i rc
	local left short fill ok=0 bad=0 lok lbad jit packets=- late_pct=- p99=- max=- vmdir=$WORK/vm-data bytes mins files secs saved newc summary
	bench_with_dumpcap voicemail
	vm_inf "$WORK/vm-fill.inf" "$VM_CALLER0" "$VM_HEARD0"
	vm_inf "$WORK/vm-leave.inf" "$VM_CALLER0" "$VM_LEFT0"
	vm_inf "$WORK/vm-listen.inf" "$VM_HEARD0" '*97'
	vm_speech "$WORK/vm-speech.ul"
	"$WORK/talkpcap" -o "$WORK/vm-leave.pcap" "silence=${VM_LEAD}s" "audio=$WORK/vm-speech.ul"
	# The PIN once "enter your PIN" has played, 1 once the counts and the
	# main menu have (a late one barges in, as people do), then the
	# envelope and the message, and the message menu until the hang-up.
	"$WORK/talkpcap" -o "$WORK/vm-listen.pcap" silence=4s "keys=$VM_PIN#" silence=10.5s keys=1 "silence=$((VM_LISTEN_MS / 1000 - 15))s"
	DESKPBX_DATA_DIR=$vmdir start_deskpbx voicemail $((4 * n + 64)) info vm_setup

	log "voicemail: fill: $n callers leave a ${BENCH_VM_TALK}s message each in the mailboxes to be listened to"
	SIPP_NICE=$BENCH_VM_NICE sipp_run vm-fill uac_auth_pcap_bye.xml "$PBX_ADDR" -inf "$WORK/vm-fill.inf" -key dtmf "$WORK/vm-leave.pcap" \
		-mi 127.0.0.1 -r 50 -rp 1000 -l "$n" -m "$n" -d $(((VM_LEAD + BENCH_VM_TALK) * 1000 + 500)) -fd 1
	fill=$(num "$(sipp_stat "$WORK/vm-fill.stat" 'SuccessfulCall(C)')")
	[ "$fill" != "$n" ] && NOTES+=("voicemail: only $fill of $n fill calls succeeded ($WORK/vm-fill.out)")
	sleep 1 # the last messages written

	capture_start vm "udp src portrange $PBX_RTP_LO-$PBX_RTP_HI"
	note_load voicemail
	log "voicemail: $n callers leave messages while $n people listen (*97, PIN, 1), at once"
	free_port lport
	free_port mport 4
	t0=$(cpu_ticks "$PBX_PID")
	read -r b0 a0 < <(stat_ticks)
	(
		SIPP_NICE=$BENCH_VM_NICE sipp_run vm-leave uac_auth_pcap_bye.xml "$PBX_ADDR" -inf "$WORK/vm-leave.inf" -key dtmf "$WORK/vm-leave.pcap" \
			-mi 127.0.0.1 -r 50 -rp 1000 -l "$n" -m "$n" -d $(((VM_LEAD + BENCH_VM_TALK) * 1000 + 500)) -fd 1
		echo "$SIPP_RC" >"$WORK/vm-leave.rc"
	) &
	i=$!
	SIPP_LPORT=$lport SIPP_MPORT=$mport SIPP_NICE=$BENCH_VM_NICE sipp_run vm-listen uac_auth_pcap_bye.xml "$PBX_ADDR" -inf "$WORK/vm-listen.inf" \
		-key dtmf "$WORK/vm-listen.pcap" -mi 127.0.0.1 -r 50 -rp 1000 -l "$n" -m "$n" -d "$VM_LISTEN_MS" -fd 1
	wait "$i" || true
	t1=$(cpu_ticks "$PBX_PID")
	read -r b1 a1 < <(stat_ticks)
	busy=$(awk -v b=$((b1 - b0)) -v a=$((a1 - a0)) 'BEGIN { printf "%.0f%%", (a > 0 ? 100 * b / a : 0) }')
	[ "$SIPP_RC" != 0 ] && NOTES+=("voicemail: listeners' SIPp exit status $SIPP_RC ($WORK/vm-listen.out)")
	rc=$(cat "$WORK/vm-leave.rc" 2>/dev/null || echo '?')
	[ "$rc" != 0 ] && NOTES+=("voicemail: callers' SIPp exit status $rc ($WORK/vm-leave.out)")
	capture_stop vm
	sleep 1
	stop_pid "$PBX_PID" deskpbx
	release_range "$PBX_RTP_LO" "$PBX_RTP_HI"
	ok=$(num "$(sipp_stat "$WORK/vm-leave.stat" 'SuccessfulCall(C)')")
	bad=$(num "$(sipp_stat "$WORK/vm-leave.stat" 'FailedCall(C)')")
	lok=$(num "$(sipp_stat "$WORK/vm-listen.stat" 'SuccessfulCall(C)')")
	lbad=$(num "$(sipp_stat "$WORK/vm-listen.stat" 'FailedCall(C)')")
	if [ -s "$cap" ] && "$WORK/rtpjitter" -src-ports "$PBX_RTP_LO-$PBX_RTP_HI" "$cap" >"$WORK/vm.jitter" 2>&1; then
		jit=$WORK/vm.jitter
		packets=$(awk -F= '$1 == "packets" { print $2 }' "$jit")
		late_pct=$(awk -F= '$1 == "late_pct" { printf "%.2f%%", $2 }' "$jit")
		p99=$(awk -F= '$1 == "p99_ms" { print $2 }' "$jit")
		max=$(awk -F= '$1 == "max_ms" { print $2 }' "$jit")
	elif [ -s "$cap" ]; then
		NOTES+=("voicemail: rtpjitter failed: $(tail -n 1 "$WORK/vm.jitter")")
	fi
	[ "${BENCH_KEEP:-}" = 1 ] || rm -f "$cap"

	# What is on disk, and what the database says of it.
	shopt -s nullglob
	files=("$vmdir"/*.wav)
	shopt -u nullglob
	bytes=$(du -sb "$vmdir" 2>/dev/null | awk '{ print $1 }')
	secs=$(vm_wav_secs "${files[@]}" | sort -n)
	mins=$(printf '%s\n' "$secs" | awk 'NF { s += $1 } END { printf "%.3f", s / 60 }')
	summary=$(printf '%s\n' "$secs" | awk -v lo="$((BENCH_VM_TALK - 1))" -v hi="$((BENCH_VM_TALK + VM_LEAD))" \
		'NF { v[n++] = $1; if ($1 >= lo && $1 <= hi) good++ } END { if (!n) { print "no files"; exit }
		printf "%d files, lengths min %.1f s, median %.1f s, max %.1f s; %d of them %d-%d s long", n, v[0], v[int(n / 2)], v[n - 1], good, lo, hi }')
	read -r saved newc < <(sqlite3 "$PBX_DB" "SELECT (SELECT count(*) FROM voicemail_messages WHERE folder = 'saved'), (SELECT count(*) FROM voicemail_messages WHERE folder = 'new');" 2>/dev/null | tr '|' ' ')
	left=$(grep -c 'msg="voicemail left"' "$WORK/voicemail.log" || true)
	short=$(grep -c 'msg="voicemail: message under a second dropped"' "$WORK/voicemail.log" || true)
	NOTES+=("voicemail: deskpbx logged $left messages left, $short dropped as under a second (a greeting that outlasted the call)")
	NOTES+=("voicemail: $summary (want $((2 * n)), each the ${BENCH_VM_TALK} s of speech and what of the ${VM_LEAD} s of silence before it outlasted the greeting); database: ${saved:-?} saved (played to a listener; want $n), ${newc:-?} new (want $n)")
	VM_ROWS+=("$(awk -v n="$n" -v ok="$ok" -v bad="$bad" -v lok="$lok" -v lbad="$lbad" -v t="$((t1 - t0))" -v hz="$CLK_TCK" -v busy="$busy" -v pk="$packets" -v lp="$late_pct" \
		-v p99="$p99" -v mx="$max" -v bytes="$bytes" -v mins="$mins" -v fmt="$VM_FMT" \
		'BEGIN { cpu = t / hz; calls = ok + lok
			printf fmt, n, ok "/" bad, lok "/" lbad, sprintf("%.2fs", cpu), (calls > 0 ? sprintf("%.1f", cpu * 1000 / calls) : "-"),
				sprintf("%.2f", mins), busy, pk, lp, p99, mx, sprintf("%.1f MB", bytes / 1e6), (mins > 0 ? sprintf("%.0f", bytes / mins) : "-") }')")
}

voicemail_print() {
	[ ${#VM_ROWS[@]} -gt 0 ] || return 0
	echo "Voicemail: N callers leave a message (${VM_LEAD} s of silence through the greeting, then ${BENCH_VM_TALK} s of speech, PCMU, then BYE) in"
	echo "unregistered extensions' mailboxes while N people dial *97, key their PIN and 1 (RFC 4733) and hear a message left"
	echo "before (all SIPp, at nice $BENCH_VM_NICE, 50 new calls/s each). CPU: deskpbx's over both loads, per call. minutes: all messages on"
	echo "disk (both phases); bytes/min: the voicemail directory's size over them. late: deskpbx's RTP (prompts, greetings,"
	echo "playback) sent more than 5 ms after its 20 ms slot (capture on lo, e2e/cmd/rtpjitter)."
	printf "$VM_FMT" N "leave ok/x" "listen ok/x" CPU "ms/call" minutes box "RTP pkts" "late>5ms" "p99 ms" "max ms" "disk" "bytes/min"
	printf '%s\n' "${VM_ROWS[@]}"
	echo
}
