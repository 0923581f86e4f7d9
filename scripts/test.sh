#!/usr/bin/env bash
# Set everything up and run the whole test suite:
#   system packages (Debian/Ubuntu), PostgreSQL and RabbitMQ (started if down), the Ganeti
#   sandbox (a real single-node Ganeti cluster with the fake hypervisor), a virtualenv with
#   the pinned dependencies, then pytest. Extra arguments go to pytest.
# Needs root or sudo for the system parts. CI sets CYCLADES_REQUIRE_SERVICES=1 so that a
# test whose service is missing fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
log() { printf '\033[1m[test.sh]\033[0m %s\n' "$*"; }

# ------------------------------------------------------------------ system packages
need=()
command -v psql >/dev/null 2>&1 || need+=(postgresql)
command -v rabbitmq-server >/dev/null 2>&1 || need+=(rabbitmq-server)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
command -v faketime >/dev/null 2>&1 || need+=(faketime)  # the date guard below
# the console and UI tests (tests/ui): Debian's chromium (driven by Playwright); npm for noVNC and jQuery
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
# libvirt-python (requirements.txt) builds against libvirt-dev; the libvirt tests use its test:///default driver
pkg-config --exists libvirt 2>/dev/null || need+=(libvirt-dev pkg-config gcc)
command -v nft >/dev/null 2>&1 || need+=(nftables)  # the anti-spoofing test loads rules with nft
# personalisation (conf/ganeti-os/cyclades-image/personalise.py writes with debugfs; the tests build
# partitioned images with sfdisk, make SSH keys with ssh-keygen and compare hashes with openssl passwd)
PATH="$PATH:/usr/sbin:/sbin" command -v debugfs >/dev/null 2>&1 || need+=(e2fsprogs)
PATH="$PATH:/usr/sbin:/sbin" command -v sfdisk >/dev/null 2>&1 || need+=(fdisk)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ------------------------------------------------------------------ services
scripts/services.sh

# ------------------------------------------------------------------ Ganeti sandbox
log "Ganeti sandbox"
$SUDO bash conf/ganeti-sandbox/setup.sh | tail -n 2
# real VMs with VNC consoles (QEMU/TCG) beside the fake hypervisor; idempotent, additive
$SUDO bash conf/ganeti-sandbox/enable-kvm.sh | tail -n 1

# ------------------------------------------------------------------ Ceph sandbox (the rbd image store)
log "Ceph sandbox"
$SUDO bash conf/ceph-sandbox/setup.sh 2>&1 | tail -n 1

# ------------------------------------------------------------------ libvirt host (real libvirtd + QEMU/TCG, the libvirt backend tests)
log "libvirt host"
$SUDO bash conf/libvirt-host/setup.sh | tail -n 1

# ------------------------------------------------------------------ virtualenv
scripts/venv.sh test
# Debian's python3-rados/python3-rbd (not on PyPI) linked into the venv; idempotent
bash conf/ceph-sandbox/venv-add-ceph-bindings.sh "$ROOT/.venv" >/dev/null
# volumes and server disks on RBD: Ganeti's ext template with our librbd ExtStorage provider
$SUDO bash conf/ganeti-sandbox/enable-rbd.sh | tail -n 1
$SUDO env CYCLADES_SECRET_KEY="${CYCLADES_SECRET_KEY:-test.sh-provider-install-only-not-a-secret}" \
  .venv/bin/cyclades-manage ganeti-extstorage-install --netns cyclades-host \
  --ceph-conf /var/lib/ceph-sandbox/ceph.conf --ceph-user sandbox
scripts/novnc.sh
scripts/kamaki.sh

# ------------------------------------------------------------------ tests
log "pytest $*"
cd "$ROOT"
.venv/bin/python -m pytest "$@"

# ------------------------------------------------------------------ date guard
# A whole run (no arguments) also runs the tests again with the clock 30 days ahead, so a
# test that passes only on the day it was written fails today, not next month:
# - eventd's (a subprocess too) under faketime, which moves every clock of the process;
# - every test whose clocks are all this process's (not the Ganeti sandbox's, not OpenSSL's,
#   not slow) with time-machine moving Python's clock (tests/clock_ahead.py).
if (($# == 0)); then
  log "date guard: tests/eventd with the clock 30 days ahead (faketime)"
  faketime -f '+30d' .venv/bin/python -m pytest -q -p no:randomly tests/eventd
  log "date guard: every test of this process's clock alone, 30 days ahead (time-machine)"
  .venv/bin/python -m pytest -q -p no:randomly --clock-ahead 30 -m "not ganeti and not slow and not realclock"
fi
