#!/usr/bin/env bash
# Set everything up and run the whole product on this machine (embedded mode):
# SQLite + in-process bus + a simulated Ganeti master, all in one process.
# Data lives in ./var; stop with Ctrl-C. Extra arguments go to cyclades-allinone.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
scripts/venv.sh
scripts/novnc.sh
exec .venv/bin/cyclades-allinone --data-dir ./var "$@"
