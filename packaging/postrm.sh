#!/bin/sh
# deskpbx postrm. /var/lib/deskpbx (database, voicemail) and the deskpbx
# user stay even on purge: a PBX's data outlives its package, and a
# reinstall picks it up. Delete the directory yourself if you mean to.
set -e
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
fi
if [ "$1" = purge ] && command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper purge deskpbx.service >/dev/null || true
	deb-systemd-helper unmask deskpbx.service >/dev/null || true
fi
exit 0
