#!/usr/bin/env bash
# Installs the programs the tests drive as real SIP peers and audio tools,
# only those missing, so a second `make test` never touches apt.
set -euo pipefail

packages=(sip-tester baresip-core linphone-cli espeak-ng sox multimon-ng chromium)
# Kamailio plays the SIP provider in the trunk tests (e2e/trunk_test.go).
packages+=(kamailio kamailio-sqlite-modules)
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
# The kamailio package starts its stock config on port 5060 unless
# service starts are blocked.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
	"${sudo[@]}" chmod +x /usr/sbin/policy-rc.d
fi
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
