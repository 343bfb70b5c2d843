#!/usr/bin/env bash
# Installs the programs the tests drive as real SIP peers and audio tools,
# only those missing, so a second `make test` never touches apt.
set -euo pipefail

packages=(sip-tester baresip-core espeak-ng sox multimon-ng chromium)
# For the .deb test (make deb: arm64 cgo, qemu-user, systemd-analyze) and promtool.
packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user systemd prometheus)

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: not a Debian system; install these yourself: ${packages[*]}" >&2
	exit 0
fi

missing=()
for p in "${packages[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
	sudo=(sudo)
fi
echo "test-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
