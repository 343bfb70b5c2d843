#!/bin/sh
# deskpbx postinst: its own system user, its state directory, and the
# service enabled and (re)started where systemd runs.
set -e

if [ "$1" = configure ]; then
	if ! getent group deskpbx >/dev/null; then
		groupadd --system deskpbx
	fi
	if ! getent passwd deskpbx >/dev/null; then
		useradd --system --gid deskpbx --home-dir /var/lib/deskpbx --no-create-home \
			--shell /usr/sbin/nologin --comment "deskpbx PBX" deskpbx
	fi
	# The database and the first admin's password file live here: no one
	# but root and deskpbx may read them.
	install -d -o deskpbx -g deskpbx -m 0750 /var/lib/deskpbx

	if command -v deb-systemd-helper >/dev/null 2>&1; then
		# Enabled even without a running systemd (containers, chroots), so
		# it starts at the next boot.
		deb-systemd-helper unmask deskpbx.service >/dev/null || true
		if deb-systemd-helper --quiet was-enabled deskpbx.service; then
			deb-systemd-helper enable deskpbx.service >/dev/null || true
		else
			deb-systemd-helper update-state deskpbx.service >/dev/null || true
		fi
	fi
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null || true
		if [ -z "$2" ]; then
			systemctl enable deskpbx.service >/dev/null 2>&1 || true
			systemctl start deskpbx.service || true
		else
			# An upgrade: the new binary migrates the database as it starts.
			systemctl try-restart deskpbx.service || true
		fi
	fi
fi
exit 0
