#!/bin/bash
# setup.sh - bring up a REAL single-node Ganeti 3.0 cluster (Debian bookworm
# packages) for tests/CI: fake hypervisor, diskless/file/sharedfile disks,
# RAPI with a known user on a known address.  Idempotent: re-running it on a
# machine where the sandbox is already up only checks/repairs and exits.
#
# Network layout (nothing leaves the machine):
#   root netns:  veth "gnt-h"  198.51.100.1/24
#   netns "gnt": veth "gnt-n"  198.51.100.2/24  = node  node1.ganeti.test
#                master IP     198.51.100.10/32 = cluster cluster.ganeti.test
#                               (added to gnt-n by Ganeti itself)
#                bridge "br-gnt" (NIC link for instances; fake hv uses no taps)
#   The netns has no default route, so the Ganeti daemons cannot reach
#   anything but the veth peer.  All Ganeti daemons and gnt-* commands run in
#   netns "gnt" + a persistent UTS namespace whose hostname is the node name
#   (Ganeti insists the hostname resolves to a non-loopback address it owns).
#   Use the wrapper:   gnt-ns gnt-instance list
#
# RAPI:  https://198.51.100.10:5080  (also https://cluster.ganeti.test:5080)
#        user ganeti-rapi / ganeti-rapi-pass (write), self-signed cert
#        /var/lib/ganeti/rapi.pem (CN=ganeti.example.com -> don't verify hostname)
#
# Requirements: root, CAP_NET_ADMIN + CAP_SYS_ADMIN (ip netns, unshare, mount),
# Debian bookworm apt sources.  Everything is overridable via env vars below.
# The project's own copy (conf/ganeti-sandbox/): CI and scripts/test.sh run it; the tests
# read /run/ganeti-sandbox/rapi.env (tests/services.py). Safe to re-run while others use it.
set -euo pipefail

GNT_NS=${GNT_NS:-gnt}
GNT_NET=${GNT_NET:-198.51.100}            # /24, must not be routed anywhere
HOST_IF=${HOST_IF:-gnt-h}
NODE_IF=${NODE_IF:-gnt-n}
HOST_IP=${HOST_IP:-$GNT_NET.1}
NODE_IP=${NODE_IP:-$GNT_NET.2}
CLUSTER_IP=${CLUSTER_IP:-$GNT_NET.10}
NODE_NAME=${NODE_NAME:-node1.ganeti.test}
CLUSTER_NAME=${CLUSTER_NAME:-cluster.ganeti.test}
BRIDGE=${BRIDGE:-br-gnt}
RAPI_USER=${RAPI_USER:-ganeti-rapi}
RAPI_PASS=${RAPI_PASS:-ganeti-rapi-pass}
FILE_DIR=${FILE_DIR:-/srv/ganeti/file-storage}
SHARED_DIR=${SHARED_DIR:-/srv/ganeti/shared-file-storage}
STATE_DIR=/var/lib/ganeti-sandbox          # what setup.sh did (for teardown.sh)
RUN_DIR=/run/ganeti-sandbox                # persistent UTS ns lives here
UTS_FILE=$RUN_DIR/uts
WRAPPER=/usr/local/sbin/gnt-ns
HOSTS_MARK="# ganeti-sandbox"
JOB_ARCHIVE_AGE=${JOB_ARCHIVE_AGE:-1h}        # finished jobs older than this are archived at restart
IPOLICY_BOUNDS=${IPOLICY_BOUNDS:-min:cpu-count=1,disk-count=0,disk-size=1,memory-size=1,nic-count=0,spindle-use=0/max:cpu-count=64,disk-count=16,disk-size=1048576,memory-size=262144,nic-count=32,spindle-use=64}
PKGS=(ganeti ganeti-os-noop python3-ganeti-rapi)
EXTRA_PKGS=(curl iproute2 util-linux)

T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[setup %3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }
die() { echo "setup.sh: ERROR: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root"
mkdir -p "$STATE_DIR" "$RUN_DIR"

# ---------------------------------------------------------------- packages
pkg_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }
missing=()
for p in "${PKGS[@]}" "${EXTRA_PKGS[@]}"; do pkg_installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  log "installing: ${missing[*]} (+deps, --no-install-recommends)"
  dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' | awk '$2=="ii"{print $1}' | sed 's/:.*//' | sort -u > "$STATE_DIR/.pkgs-before"
  # Keep maintainer scripts from starting daemons (sshd, ganeti) while installing.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > "$STATE_DIR/apt-install.log" 2>&1 \
    || { tail -30 "$STATE_DIR/apt-install.log"; die "apt-get install failed"; }
  dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' | awk '$2=="ii"{print $1}' | sed 's/:.*//' | sort -u > "$STATE_DIR/.pkgs-after"
  comm -13 "$STATE_DIR/.pkgs-before" "$STATE_DIR/.pkgs-after" >> "$STATE_DIR/packages-installed-by-setup"
  sort -u -o "$STATE_DIR/packages-installed-by-setup" "$STATE_DIR/packages-installed-by-setup"
  rm -f "$STATE_DIR/.pkgs-before" "$STATE_DIR/.pkgs-after"
  log "packages installed"
else
  log "packages already installed"
fi
# If sshd got started somehow by a maintainer script we do not touch it; ganeti
# itself does not need sshd on a single node (only 'gnt-cluster verify' complains).

# ---------------------------------------------------------------- network
if ! ip netns exec "$GNT_NS" true 2>/dev/null; then
  ip netns del "$GNT_NS" 2>/dev/null || true     # stale /run/netns file after a reboot
  ip netns add "$GNT_NS"
fi
if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
  ip link add "$HOST_IF" type veth peer name "$NODE_IF" netns "$GNT_NS"
fi
# no IPv6 on the veth: no router solicitations/DAD chatter (ok to fail if IPv6 is off)
sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1" 2>/dev/null || true
ip netns exec "$GNT_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
ip addr replace "$HOST_IP/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
ip -n "$GNT_NS" link set lo up
ip -n "$GNT_NS" addr replace "$NODE_IP/24" dev "$NODE_IF"
ip -n "$GNT_NS" link set "$NODE_IF" up
ip -n "$GNT_NS" link show "$BRIDGE" >/dev/null 2>&1 || ip -n "$GNT_NS" link add "$BRIDGE" type bridge
ip -n "$GNT_NS" link set "$BRIDGE" up
# Make probes of the not-yet-active master IP fail at once instead of timing
# out (gnt-cluster init TcpPing 5s, master-ip-setup fping 2s).  Once Ganeti adds
# the IP to gnt-n, the 'local' table wins and the route is irrelevant.
ip -n "$GNT_NS" route replace unreachable "$CLUSTER_IP/32"
log "netns $GNT_NS: $NODE_IF=$NODE_IP (node), master IP $CLUSTER_IP; root ns $HOST_IF=$HOST_IP"

# /etc/hosts: node + cluster names (root ns and netns share this file)
if ! grep -q "^$NODE_IP[[:space:]]\+$NODE_NAME .*$HOSTS_MARK\$" /etc/hosts \
   || ! grep -q "^$CLUSTER_IP[[:space:]]\+$CLUSTER_NAME .*$HOSTS_MARK\$" /etc/hosts; then
  tmp=$(mktemp); grep -v "$HOSTS_MARK\$" /etc/hosts > "$tmp" || true
  printf '%s\t%s %s %s\n' "$NODE_IP" "$NODE_NAME" "${NODE_NAME%%.*}" "$HOSTS_MARK" \
                          "$CLUSTER_IP" "$CLUSTER_NAME" "${CLUSTER_NAME%%.*}" "$HOSTS_MARK" >> "$tmp"
  cat "$tmp" > /etc/hosts; rm -f "$tmp"     # keep inode (bind-mounted in containers)
fi

# persistent UTS namespace carrying the node's hostname
if ! mountpoint -q "$UTS_FILE" 2>/dev/null; then
  touch "$UTS_FILE"
  unshare --uts="$UTS_FILE" hostname "$NODE_NAME"
fi
nsenter --uts="$UTS_FILE" hostname "$NODE_NAME"

# wrapper: run anything "on the node"
cat > "$WRAPPER" <<EOF
#!/bin/sh
# Run a command inside the ganeti sandbox: netns "$GNT_NS" (ip netns exec also
# remounts /sys so /sys/class/net shows the netns devices, which Ganeti's bridge
# check needs) + UTS ns with hostname $NODE_NAME.
# If systemd is PID 1, daemon-util would hand daemons to systemctl (= root
# netns); hide /run/systemd in this private mount ns so it uses start-stop-daemon.
exec ip netns exec $GNT_NS sh -c '
  if [ -d /run/systemd/system ]; then mount -t tmpfs -o size=64k gnt-hide-systemd /run/systemd; fi
  exec nsenter --uts=$UTS_FILE -- "\$@"' gnt-ns "\$@"
EOF
chmod 755 "$WRAPPER"
[[ $($WRAPPER hostname) == "$NODE_NAME" ]] || die "wrapper hostname check failed"
$WRAPPER getent ahostsv4 "$NODE_NAME" | grep -q "^$NODE_IP " || die "$NODE_NAME does not resolve to $NODE_IP"

# ---------------------------------------------------------------- ganeti config
# Debian default binds RAPI to 127.0.0.1 (of the netns here) -> bind all netns addrs.
sed -i 's/^RAPI_ARGS=.*/RAPI_ARGS="-b 0.0.0.0 --require-authentication"/' /etc/default/ganeti
# If cron runs here, its ganeti-watcher would run in the root netns with the
# wrong hostname (and could start daemons there): route it through the wrapper.
if [[ -f /etc/cron.d/ganeti ]] && ! grep -q "$WRAPPER" /etc/cron.d/ganeti; then
  sed -i -e "s#&& /usr/sbin/ganeti-watcher#\&\& $WRAPPER /usr/sbin/ganeti-watcher#" \
         -e "s#&& /usr/sbin/gnt-cluster#\&\& $WRAPPER /usr/sbin/gnt-cluster#" /etc/cron.d/ganeti
fi
mkdir -p "$FILE_DIR" "$SHARED_DIR"
printf '%s\n%s\n' "$FILE_DIR" "$SHARED_DIR" > /etc/ganeti/file-storage-paths

write_rapi_users() {
  local ha1
  ha1=$(printf '%s:Ganeti Remote API:%s' "$RAPI_USER" "$RAPI_PASS" | md5sum | cut -d' ' -f1)
  install -d -o gnt-rapi -g gnt-masterd -m 0750 /var/lib/ganeti/rapi
  printf '%s {HA1}%s write\n' "$RAPI_USER" "$ha1" > /var/lib/ganeti/rapi/users.tmp
  chown gnt-rapi:gnt-masterd /var/lib/ganeti/rapi/users.tmp; chmod 0640 /var/lib/ganeti/rapi/users.tmp
  mv -f /var/lib/ganeti/rapi/users.tmp /var/lib/ganeti/rapi/users   # ganeti-rapi re-reads it (inotify)
}

# optional: a hook that dumps its environment (GANETI_* vars) for instance opcodes
HOOK_OPS=(instance-add instance-start instance-stop instance-reboot instance-remove instance-modify)
if [[ -n ${GNT_HOOK_ENV_DIR:-} ]]; then
  mkdir -p "$GNT_HOOK_ENV_DIR"
  cat > /etc/ganeti/sandbox-dump-env-hook <<HOOK
#!/bin/sh
env | sort > "$GNT_HOOK_ENV_DIR/\${GANETI_HOOKS_PATH:-unknown}-\${GANETI_HOOKS_PHASE:-x}-\$(date +%s%N).env"
exit 0
HOOK
  chmod 755 /etc/ganeti/sandbox-dump-env-hook
  for h in "${HOOK_OPS[@]}"; do for ph in pre post; do
    mkdir -p "/etc/ganeti/hooks/$h-$ph.d"
    ln -sfn /etc/ganeti/sandbox-dump-env-hook "/etc/ganeti/hooks/$h-$ph.d/50-sandbox-dump-env"
  done; done
  log "env-dump hooks installed -> $GNT_HOOK_ENV_DIR"
fi

# ---------------------------------------------------------------- cluster
ssconf() { cat "/var/lib/ganeti/ssconf_$1" 2>/dev/null || true; }
if [[ -f /var/lib/ganeti/config.data ]]; then
  [[ $(ssconf cluster_name) == "$CLUSTER_NAME" && $(ssconf master_node) == "$NODE_NAME" ]] \
    || die "an unrelated Ganeti cluster config exists in /var/lib/ganeti; run teardown.sh first"
  log "cluster $CLUSTER_NAME already initialised; (re)starting daemons"
  write_rapi_users
  # Daemons killed without a clean stop (the end of a session, a crash, a reboot) leave
  # their pidfiles behind. start-stop-daemon refuses a non-root pidfile that it cannot
  # match ("matching only on non-root pidfile ... is insecure", exit 2), so a pidfile
  # whose process is gone, or is now some other program, is stale and ours to remove.
  for pidfile in /run/ganeti/ganeti-*.pid; do
    [[ -e $pidfile ]] || continue
    d=$(basename "$pidfile" .pid)
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [[ ! $pid =~ ^[0-9]+$ ]] || ! { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q "$d"; then
      log "removing stale pidfile $pidfile (pid ${pid:-?} is not $d)"
      rm -f "$pidfile"
    fi
  done
  # 'daemon-util start-all' is not idempotent (start-stop-daemon refuses the
  # non-root pidfiles of running daemons), so start only what is not running.
  for d in $(/usr/lib/ganeti/daemon-util list-start-daemons); do
    [[ $d == ganeti-kvmd ]] && continue        # exits at once: "KVM not enabled"
    $WRAPPER /usr/lib/ganeti/daemon-util check-and-start "$d"
  done
  # No cron here, so no ganeti-watcher archives finished jobs: without this the queue grows
  # with every test run until Ganeti's hard limit refuses new jobs. Jobs of the last hour stay.
  for _ in 1 2 3 4 5; do
    $WRAPPER gnt-job autoarchive "$JOB_ARCHIVE_AGE" >/dev/null 2>&1 && break
    sleep 1     # luxid may still be starting
  done
else
  # leftovers of an old cluster make init refuse; they are ours to clear
  rm -f /var/lib/ganeti/queue/job-* /var/lib/ganeti/queue/{serial,version,lock}
  rm -rf /var/lib/ganeti/queue/archive/*
  rm -f /run/ganeti/fake-hypervisor/* 2>/dev/null || true
  write_rapi_users        # ganeti-rapi reads it at startup; init does not touch it
  log "gnt-cluster init $CLUSTER_NAME"
  $WRAPPER gnt-cluster init \
    --enabled-hypervisors=fake \
    --enabled-disk-templates=diskless,file,sharedfile \
    --file-storage-dir="$FILE_DIR" \
    --shared-file-storage-dir="$SHARED_DIR" \
    --master-netdev="$NODE_IF" \
    --nic-parameters="mode=bridged,link=$BRIDGE" \
    --default-iallocator-params=-no-capacity-checks \
    --ipolicy-bounds-specs="$IPOLICY_BOUNDS" \
    --ipolicy-vcpu-ratio=64 --ipolicy-spindle-ratio=64 \
    --no-etc-hosts --no-ssh-init \
    "$CLUSTER_NAME"
  # '-no-capacity-checks' stores {no-capacity-checks: None} -> hail gets the bare
  # flag --no-capacity-checks; without it hail refuses every allocation on a
  # 1-node cluster (FailN1).  ('no-capacity-checks' = True crashes noded: str+bool.)
  # Default ipolicy: min disk 1024 MiB, min mem 128 MiB, vcpu-ratio 4 (= 8 vCPUs
  # in total on a 2-core box); hail reports violations as FailDisk/FailCPU.
  log "cluster initialised"
fi

# ---------------------------------------------------------------- wait for RAPI
URL="https://$CLUSTER_IP:5080"
prev=
for _ in $(seq 1 300); do
  code=$(curl -sk -m 3 -o /dev/null -w '%{http_code}' -u "$RAPI_USER:$RAPI_PASS" "$URL/2/info" || true)
  [[ $code == 200 ]] && break
  [[ $code != "$prev" ]] && log "  RAPI /2/info -> HTTP $code, waiting"; prev=$code
  sleep 0.2
done
[[ ${code:-} == 200 ]] || die "RAPI at $URL did not answer 200 (last: ${code:-none}); see /var/log/ganeti/"
log "RAPI answering at $URL"

cat > "$RUN_DIR/rapi.env" <<EOF
GANETI_RAPI_HOST=$CLUSTER_IP
GANETI_RAPI_NAME=$CLUSTER_NAME
GANETI_RAPI_PORT=5080
GANETI_RAPI_USER=$RAPI_USER
GANETI_RAPI_PASSWORD=$RAPI_PASS
GANETI_RAPI_CERT=/var/lib/ganeti/rapi.pem
GANETI_NODE=$NODE_NAME
GANETI_NIC_LINK=$BRIDGE
GANETI_JOB_QUEUE_DIR=/var/lib/ganeti/queue
EOF
log "done; settings in $RUN_DIR/rapi.env; run gnt-* commands as: gnt-ns gnt-cluster info"
