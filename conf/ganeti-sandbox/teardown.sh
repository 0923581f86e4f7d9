#!/bin/bash
# teardown.sh - undo setup.sh.
#   teardown.sh                 remove instances, gnt-cluster destroy, stop daemons,
#                               wipe Ganeti state, remove netns/veth/bridge, /etc/hosts
#                               lines, UTS ns, gnt-ns wrapper, hooks; keep packages
#   teardown.sh --cluster-only  only remove instances + destroy the cluster + wipe state
#                               (network stays; setup.sh re-inits in ~5 s)
#   teardown.sh --purge         everything above + apt-get purge the packages that
#                               setup.sh installed (list in /var/lib/ganeti-sandbox)
#   --fast (with any mode)      skip instance removal + gnt-cluster destroy (which
#                               stops daemons serially, ~11 s); just stop daemons in
#                               parallel and wipe the state (~2 s).  Fine for the fake
#                               hypervisor + diskless/file disks: no state lives elsewhere.
# Only processes started from Ganeti's own pidfiles are stopped (by PID).
# The project's own copy (conf/ganeti-sandbox/). NEVER run it on a sandbox other people
# use: to clean up after tests, remove only your own instances (tests/fixtures_ganeti.py).
set -uo pipefail

GNT_NS=${GNT_NS:-gnt}
HOST_IF=${HOST_IF:-gnt-h}
NODE_IF=${NODE_IF:-gnt-n}
CLUSTER_IP=${CLUSTER_IP:-${GNT_NET:-198.51.100}.10}
FILE_DIR=${FILE_DIR:-/srv/ganeti/file-storage}
SHARED_DIR=${SHARED_DIR:-/srv/ganeti/shared-file-storage}
STATE_DIR=/var/lib/ganeti-sandbox
RUN_DIR=/run/ganeti-sandbox
UTS_FILE=$RUN_DIR/uts
WRAPPER=/usr/local/sbin/gnt-ns
HOSTS_MARK="# ganeti-sandbox"
MODE=full
FAST=0
for a in "$@"; do
  case "$a" in
    --cluster-only) MODE=cluster ;;
    --purge) MODE=purge ;;
    --fast) FAST=1 ;;
    *) echo "usage: $0 [--cluster-only|--purge] [--fast]" >&2; exit 2 ;;
  esac
done

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[teardown %3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }
[[ $(id -u) -eq 0 ]] || { echo "must run as root" >&2; exit 1; }

have_ns() { [[ -x $WRAPPER ]] && ip netns exec "$GNT_NS" true 2>/dev/null && mountpoint -q "$UTS_FILE"; }
DU=/usr/lib/ganeti/daemon-util

# ---------------------------------------------------------------- graceful destroy
if ((! FAST)) && [[ -f /var/lib/ganeti/config.data ]] && have_ns && [[ -x $DU ]]; then
  # master daemons alive? (pidfile + signal 0; gnt-cluster getmaster only reads ssconf)
  if $WRAPPER $DU check ganeti-luxid 2>/dev/null && $WRAPPER $DU check ganeti-wconfd 2>/dev/null \
     && $WRAPPER $DU check ganeti-noded 2>/dev/null; then
    for inst in $(timeout 30 $WRAPPER gnt-instance list --no-headers -o name 2>/dev/null); do
      log "removing instance $inst"
      timeout 120 $WRAPPER gnt-instance remove --force --ignore-failures "$inst" >/dev/null 2>&1 \
        || log "  (remove of $inst failed; will be wiped)"
    done
    log "gnt-cluster destroy --yes-do-it"
    timeout 120 $WRAPPER gnt-cluster destroy --yes-do-it >/dev/null 2>&1 \
      && log "cluster destroyed" || log "gnt-cluster destroy failed; wiping state by hand"
  else
    log "master daemons not answering; wiping state by hand"
  fi
fi

# ---------------------------------------------------------------- stop daemons (pidfiles), in parallel
if [[ -x $DU ]]; then
  pids=()
  for d in $($DU list-stop-daemons); do
    pf=/run/ganeti/$d.pid
    [[ -s $pf ]] || continue
    if have_ns; then $WRAPPER $DU stop "$d" & else $DU stop "$d" & fi
    pids+=($!)
  done
  ((${#pids[@]})) && wait "${pids[@]}" 2>/dev/null
  log "daemons stopped"
fi

# ---------------------------------------------------------------- wipe state
if [[ -d /var/lib/ganeti ]]; then
  find /var/lib/ganeti -maxdepth 1 -type f -delete
  rm -rf /var/lib/ganeti/queue/* /var/lib/ganeti/rapi/users /var/lib/ganeti/rapi/users.tmp
  install -d -o gnt-masterd -g gnt-daemons -m 0750 /var/lib/ganeti/queue/archive 2>/dev/null || true
fi
rm -rf /run/ganeti/* 2>/dev/null || true
rm -rf "${FILE_DIR:?}"/* "${SHARED_DIR:?}"/* 2>/dev/null || true
# a master IP left behind (destroy failed / daemons dead) would make the next
# init fail with "Cluster IP already active"; drop it (the netns goes anyway in
# full mode)
if ip netns exec "$GNT_NS" true 2>/dev/null; then
  ip -n "$GNT_NS" addr del "$CLUSTER_IP/32" dev "$NODE_IF" 2>/dev/null || true
fi
log "ganeti state wiped"
[[ $MODE == cluster ]] && { log "done (cluster only; run setup.sh to re-init)"; exit 0; }

# ---------------------------------------------------------------- network, names, wrapper, hooks
ip netns del "$GNT_NS" 2>/dev/null || true          # takes gnt-n, br-gnt, master IP with it
ip link del "$HOST_IF" 2>/dev/null || true          # normally gone together with its peer
if grep -q "$HOSTS_MARK\$" /etc/hosts; then
  tmp=$(mktemp); grep -v "$HOSTS_MARK\$" /etc/hosts > "$tmp"; cat "$tmp" > /etc/hosts; rm -f "$tmp"
fi
mountpoint -q "$UTS_FILE" 2>/dev/null && umount "$UTS_FILE"
rm -rf "$RUN_DIR" "$WRAPPER"
rm -f /etc/ganeti/sandbox-dump-env-hook /etc/ganeti/hooks/*/50-sandbox-dump-env 2>/dev/null || true
[[ -f /etc/default/ganeti ]] && \
  sed -i 's/^RAPI_ARGS=.*/RAPI_ARGS="-b 127.0.0.1 --require-authentication"/' /etc/default/ganeti
rm -f /etc/ganeti/file-storage-paths
[[ -f /etc/cron.d/ganeti ]] && sed -i "s#$WRAPPER ##" /etc/cron.d/ganeti
log "netns, veth, /etc/hosts entries, UTS ns, wrapper removed"

# ---------------------------------------------------------------- packages
if [[ $MODE == purge ]]; then
  if [[ -s $STATE_DIR/packages-installed-by-setup ]]; then
    mapfile -t pk < <(while read -r p; do
      dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^[ir]' && echo "$p"; done \
      < "$STATE_DIR/packages-installed-by-setup")
    if ((${#pk[@]})); then
      log "apt-get purge ${#pk[@]} packages installed by setup.sh"
      DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${pk[@]}" > "$STATE_DIR/apt-purge.log" 2>&1 \
        || { tail -20 "$STATE_DIR/apt-purge.log"; exit 1; }
    fi
  fi
  rm -rf /var/lib/ganeti /var/log/ganeti /etc/ganeti /run/ganeti "$FILE_DIR" "$SHARED_DIR" "$STATE_DIR"
  rmdir /srv/ganeti 2>/dev/null || true
  log "packages purged"
fi
log "done"
