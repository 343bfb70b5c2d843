#!/usr/bin/env bash
# Installs a deskpbx .deb on this machine for real, as an office admin
# would, and checks what the issue promises on Debian 12 without a running
# systemd: the package installs (twice: the second is the upgrade path),
# the binary runs as its own user with the unit's capability set,
# `deskpbx healthcheck` answers, and removing (even purging) the package
# keeps /var/lib/deskpbx. CI runs it as root after `make test`.
#
# usage: scripts/deb-smoke.sh dist/deskpbx_VERSION_ARCH.deb
# It changes this machine: what it created (user, /var/lib/deskpbx) is
# removed at the end only with DESKPBX_SMOKE_CLEANUP=1.
set -euo pipefail

deb=${1:?usage: scripts/deb-smoke.sh dist/deskpbx_VERSION_ARCH.deb}
[ "$(id -u)" = 0 ] || { echo "deb-smoke: must run as root (it installs a package)" >&2; exit 1; }
[ -f "$deb" ] || { echo "deb-smoke: no such package: $deb" >&2; exit 1; }

fail() { echo "deb-smoke: FAIL: $*" >&2; exit 1; }
state=/var/lib/deskpbx
had_user=$(getent passwd deskpbx >/dev/null && echo 1 || echo 0)
had_state=$([ -e "$state" ] && echo 1 || echo 0)
# What an earlier run (or a real installation) left in $state is put aside
# and back at the end: the checks below are of a fresh installation.
aside=
if [ "$had_state" = 1 ]; then
	aside=$(mktemp -d /var/lib/.deskpbx-smoke-aside.XXXXXX)
	mv "$state" "$aside/state"
fi
log=$(mktemp)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" && wait "$pid" || true
	fi
	if dpkg-query -W deskpbx >/dev/null 2>&1; then
		dpkg -P deskpbx >/dev/null || true
	fi
	if [ "${DESKPBX_SMOKE_CLEANUP:-0}" = 1 ]; then
		[ "$had_state" = 1 ] || rm -rf "$state"
		[ "$had_user" = 1 ] || userdel deskpbx 2>/dev/null || true
		getent group deskpbx >/dev/null && [ "$had_user" = 0 ] && groupdel deskpbx 2>/dev/null || true
	fi
	if [ -n "$aside" ]; then
		rm -rf "$state"
		mv "$aside/state" "$state"
		rmdir "$aside"
	fi
	rm -f "$log"
}
trap cleanup EXIT

echo "deb-smoke: dpkg -i $deb"
dpkg -i "$deb"
echo "deb-smoke: dpkg -i again (the upgrade path of postinst)"
dpkg -i "$deb"

getent passwd deskpbx | grep -q ':/usr/sbin/nologin$' || fail "no system user deskpbx with a nologin shell"
[ "$(stat -c %U:%G:%a "$state")" = deskpbx:deskpbx:750 ] || fail "$state is $(stat -c %U:%G:%a "$state"), want deskpbx:deskpbx:750"
[ "$(stat -c %U:%a /etc/default/deskpbx)" = root:600 ] || fail "/etc/default/deskpbx is not root's alone"
/usr/bin/deskpbx help >/dev/null || fail "deskpbx help"

# What the unit does, without systemd: its environment, its user, only
# CAP_NET_BIND_SERVICE, no new privileges, umask 0027. Ports 0: the
# kernel picks free ones and the log says which.
echo "deb-smoke: starting deskpbx as user deskpbx"
(
	cd "$state"
	umask 0027
	export DESKPBX_DB=$state/deskpbx.db
	set -a
	# shellcheck disable=SC1091
	. /etc/default/deskpbx
	set +a
	exec setpriv --reuid=deskpbx --regid=deskpbx --init-groups --no-new-privs \
		--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
		--bounding-set=-all,+net_bind_service \
		/usr/bin/deskpbx serve -sip-addr 127.0.0.1:0 -http-addr 127.0.0.1:0
) >"$log" 2>&1 &
pid=$!

sip=
for _ in $(seq 1 100); do
	sip=$(sed -n 's/.*msg="deskpbx running".* sip=\([0-9.:]*\).*/\1/p' "$log" | head -1)
	[ -n "$sip" ] && break
	kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "deskpbx exited at start"; }
	sleep 0.1
done
[ -n "$sip" ] || { cat "$log" >&2; fail "deskpbx did not start within 10 s"; }
echo "deb-smoke: deskpbx running, SIP on $sip"

[ "$(stat -c %U "/proc/$pid")" = deskpbx ] || fail "server runs as $(stat -c %U "/proc/$pid")"
grep -q '^CapEff:.*0000000000000400$' "/proc/$pid/status" || fail "effective capabilities: $(grep ^Cap "/proc/$pid/status")"
[ "$(stat -c %U:%a "$state/deskpbx.db")" = deskpbx:600 ] || fail "database is $(stat -c %U:%a "$state/deskpbx.db"), want deskpbx:600 (store.Open creates it readable by its owner only)"

runuser -u deskpbx -- /usr/bin/deskpbx healthcheck -sip-addr "$sip" || { cat "$log" >&2; fail "healthcheck"; }

# A backup as the service user while it runs, then (stopped) a restore of
# it over the installation, as the README tells an admin to.
backup=$state/smoke-backup.tar.gz
runuser -u deskpbx -- /usr/bin/deskpbx backup -db "$state/deskpbx.db" "$backup"
# grep reads the whole list: -q would stop at the match and tar, still
# listing voicemail/, would die of SIGPIPE (pipefail)
tar -tzf "$backup" | grep -x 'deskpbx.db' >/dev/null || fail "backup lacks deskpbx.db"

kill "$pid"
wait "$pid" || fail "deskpbx exited with $? on SIGTERM"
pid=
runuser -u deskpbx -- /usr/bin/deskpbx restore -force -db "$state/deskpbx.db" "$backup"
[ "$(stat -c %U "$state/deskpbx.db")" = deskpbx ] || fail "restored database is not the service user's"
rm -f "$backup" "$state"/deskpbx.db.before-restore-*

echo "deb-smoke: dpkg -r deskpbx"
dpkg -r deskpbx
[ ! -e /usr/bin/deskpbx ] || fail "/usr/bin/deskpbx left after removal"
[ -f "$state/deskpbx.db" ] || fail "removing the package lost $state/deskpbx.db"
echo "deb-smoke: dpkg -P deskpbx"
dpkg -P deskpbx
[ -f "$state/deskpbx.db" ] || fail "purging the package lost $state/deskpbx.db"
echo "deb-smoke: ok"
