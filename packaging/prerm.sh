#!/bin/sh
# deskpbx prerm: stop the service before its binary goes away.
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop deskpbx.service || true
fi
exit 0
