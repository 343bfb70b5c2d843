#!/usr/bin/env bash
# Placeholder: the load benchmarks (SIPp registrations and calls against a
# running deskpbx) are still to be written.
set -euo pipefail
echo "bench: not yet written"
