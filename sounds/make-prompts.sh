#!/bin/sh
# Regenerates every prompt listed in prompts.txt as 8 kHz mono G.711 µ-law
# raw (no header) in prompts/NAME.ul, or in the directory given as $1.
#
# The committed prompts were made with espeak-ng 1.51+dfsg-10+deb12u2 and
# sox 14.4.2+git20190427-3.5 (Debian 12). Other versions synthesise slightly
# different audio, so the byte-for-byte test in sounds_test.go skips itself
# when the versions differ; regenerate and commit after an upgrade.
#
# Usage: sh make-prompts.sh [OUTDIR]
set -eu

cd "$(dirname "$0")"
out=${1:-prompts}
mkdir -p "$out"

# Fixed voice parameters: any change here changes every committed byte.
VOICE=en-us      # espeak-ng's own voice, not mbrola (not installed on Debian by default)
PITCH=50
AMPL=100
SPEED=160        # words/min for sentences: a little slower than the default 175,
                 # since G.711 over a handset loses consonant detail.
DIGIT_SPEED=185  # faster so each digit stays well under 0.6 s and numbers
                 # read out by concatenation don't drag.
DIGIT_GAP=0.06   # trailing silence kept on digits so "one two three" doesn't
                 # run together when concatenated with no gap.

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -R: fixed seeds; -D: no dither. Both are needed for reproducible bytes,
# since sox otherwise dithers (randomly) when it drops bit depth.
SOX="sox -R -D -V1"

grep -v '^#' prompts.txt | grep -v '^[[:space:]]*$' | while IFS='|' read -r name text; do
	speed=$SPEED
	pad=0
	case $name in
	digit-*)
		speed=$DIGIT_SPEED
		pad=$DIGIT_GAP
		;;
	esac
	espeak-ng -v "$VOICE" -s "$speed" -p "$PITCH" -a "$AMPL" -w "$tmp/raw.wav" "$text"
	# Trim before resampling (espeak-ng's silence is digital zero, so a
	# -60 dBFS threshold only removes true silence), high-pass away the DC
	# and rumble a handset can't reproduce anyway, then peak-normalise to
	# -3 dBFS: µ-law's largest code is ~ -0.2 dBFS, so this leaves room for
	# the resampler's overshoot without clipping.
	$SOX "$tmp/raw.wav" -b 16 -e signed-integer "$tmp/trim.wav" \
		silence 1 0.005 0.1% reverse silence 1 0.005 0.1% reverse \
		highpass 120 rate -v 8000 gain -n -3
	# A separate pass because fade needs the trimmed length to place the
	# fade-out. The fades stop clicks at the cut points.
	$SOX "$tmp/trim.wav" -t raw -r 8000 -c 1 -e u-law -b 8 "$out/$name.ul" \
		fade h 0.005 -0 0.02 pad 0 "$pad"
done
