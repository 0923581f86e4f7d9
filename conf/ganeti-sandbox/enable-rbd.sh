#!/bin/bash
# enable-rbd.sh - add-on for ganeti-sandbox/setup.sh and ceph-sandbox/setup.sh: let the
# Ganeti sandbox keep disks on the Ceph sandbox through the "ext" disk template and the
# cyclades-rbd ExtStorage provider (librbd only: no kernel rbd here). Run it after both
# setups; idempotent and additive (it only adds "ext" to the enabled templates).
#
#   sudo ./enable-rbd.sh
#
# * Ganeti's daemons run in netns "gnt", where 127.0.0.1 is not the Ceph sandbox's: the
#   root network namespace gets a name (/run/netns/$HOST_NETNS) so that the provider's
#   Ceph clients (rbd, qemu-storage-daemon) can enter just that namespace.
# * The provider itself is installed by `cyclades-manage ganeti-extstorage-install
#   --netns $HOST_NETNS` (scripts/test.sh does both).
# * The node needs qemu-storage-daemon with QEMU's rbd driver, rbd, losetup.
set -euo pipefail
HOST_NETNS=${HOST_NETNS:-cyclades-host}
WRAPPER=/usr/local/sbin/gnt-ns
log() { echo "[enable-rbd] $*" >&2; }

need=()
command -v qemu-storage-daemon >/dev/null 2>&1 || need+=(qemu-system-common)
[[ -e /usr/lib/x86_64-linux-gnu/qemu/block-rbd.so ]] || need+=(qemu-block-extra)
command -v rbd >/dev/null 2>&1 || need+=(ceph-common)
if ((${#need[@]})); then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# a name for the root network namespace (where the Ceph sandbox listens)
if [[ ! -e /run/netns/$HOST_NETNS ]]; then
  ip netns attach "$HOST_NETNS" $$
  log "root network namespace named $HOST_NETNS"
fi

# "ext" among the cluster's enabled and allowed disk templates
enabled=$($WRAPPER gnt-cluster info | sed -n 's/^ *enabled disk templates: //p' | tr -d ' ')
if [[ ",$enabled," != *",ext,"* ]]; then
  $WRAPPER gnt-cluster modify --enabled-disk-templates="$enabled,ext" --ipolicy-disk-templates="$enabled,ext"
  log "enabled disk templates: $enabled,ext"
fi
allowed=$($WRAPPER gnt-cluster info | sed -n 's/^ *allowed disk templates: //p' | tr -d ' ')
if [[ ",$allowed," != *",ext,"* ]]; then
  $WRAPPER gnt-cluster modify --ipolicy-disk-templates="$allowed,ext"
fi
echo "ext disk template enabled; Ceph clients of the provider enter netns $HOST_NETNS"
