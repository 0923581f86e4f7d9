#!/bin/bash
# setup.sh - a real libvirt host on this machine for the libvirt backend tests: libvirtd with the
# QEMU driver (TCG guests), QEMU's RBD block driver (librbd: no kernel RBD here), and the test
# guest (Debian cloud kernel + busybox initramfs, direct kernel boot). Idempotent; a second run
# only checks (well under a second). Needs root.
#
#   sudo ./setup.sh          install what is missing, start virtlogd + libvirtd if not running
#
# Facts (Debian bookworm, no systemd as PID 1):
# * libvirt-daemon-system would pull systemd: install the daemon and the QEMU driver alone.
# * libvirtd exits ("Failed to parse user 'libvirt-qemu'") without that user/group: create them
#   (uid/gid 64055, Debian's numbers); QEMU runs as root (qemu.conf) so it reads the guest
#   files and /etc/ceph without more setup.
# * The guest is built by conf/ganeti-sandbox/enable-kvm.sh (same recipe, same directory);
#   when it is missing this script builds it the same way through apt-get download.
# Environment: GUEST_DIR [/var/lib/ganeti-sandbox/guest]
set -euo pipefail
GUEST_DIR=${GUEST_DIR:-/var/lib/ganeti-sandbox/guest}
T0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '[libvirt-host %3d.%03ds] %s\n' $((ms/1000)) $((ms%1000)) "$*"; }
die() { echo "libvirt-host/setup.sh: ERROR: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "must run as root"

pkg_installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii'; }
missing=()
for p in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-block-extra qemu-utils; do
  pkg_installed "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]} (--no-install-recommends)"
  export DEBIAN_FRONTEND=noninteractive
  policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then   # no init scripts started by dpkg
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy=1
  fi
  ok=1
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/var/log/cyclades-libvirt-host-apt.log 2>&1 || ok=0
  ((policy)) && rm -f /usr/sbin/policy-rc.d
  ((ok)) || { tail -20 /var/log/cyclades-libvirt-host-apt.log; die "apt-get install failed"; }
fi

getent group libvirt-qemu >/dev/null || groupadd --system --gid 64055 libvirt-qemu 2>/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --uid 64055 --gid libvirt-qemu --home-dir /var/lib/libvirt \
  --no-create-home --shell /usr/sbin/nologin libvirt-qemu 2>/dev/null \
  || useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu

mkdir -p /var/log/libvirt /var/lib/libvirt/qemu /etc/libvirt
conf=/etc/libvirt/qemu.conf
touch "$conf"
if ! grep -q '^user = "root"' "$conf" || ! grep -q '^group = "root"' "$conf"; then
  printf '\n# cyclades conf/libvirt-host/setup.sh: QEMU as root (guest files, /etc/ceph)\nuser = "root"\ngroup = "root"\n' >> "$conf"
  restart=1
fi

running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
running /run/virtlogd.pid || { virtlogd -d; log "virtlogd started"; }
if running /run/libvirtd.pid && [[ ${restart:-0} == 1 ]]; then
  kill "$(cat /run/libvirtd.pid)"; for _ in $(seq 50); do running /run/libvirtd.pid || break; sleep 0.1; done
fi
if ! running /run/libvirtd.pid; then
  libvirtd -d
  log "libvirtd started"
fi
for _ in $(seq 100); do virsh -q -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.1; done
virsh -q -c qemu:///system version >/dev/null 2>&1 || die "libvirtd does not answer on qemu:///system"

if [[ ! -s $GUEST_DIR/vmlinuz || ! -s $GUEST_DIR/initrd.gz ]]; then
  log "building the test guest in $GUEST_DIR"
  tmp=$(mktemp -d /var/tmp/libvirt-guest.XXXXXX); trap 'rm -rf "$tmp"' EXIT; chmod 755 "$tmp"  # _apt downloads into it
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}') || true
  [[ -n $kpkg ]] || { apt-get update -qq; kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
  mkdir -p "$tmp/dl" "$tmp/kx" "$tmp/bx" "$tmp/root/bin" "$tmp/root/proc" "$tmp/root/sys" "$tmp/root/dev"
  id _apt >/dev/null 2>&1 && chown _apt "$tmp/dl"
  (cd "$tmp/dl" && apt-get download -qq "$kpkg" busybox-static)
  dpkg-deb -x "$tmp"/dl/linux-image-*.deb "$tmp/kx"; dpkg-deb -x "$tmp"/dl/busybox-static_*.deb "$tmp/bx"
  cp "$tmp/bx/bin/busybox" "$tmp/root/bin/busybox"
  for a in sh mount sleep poweroff echo printf cat ls; do ln -s busybox "$tmp/root/bin/$a"; done
  printf '#!/bin/sh\nexport PATH=/bin\nmount -t proc proc /proc\nmount -t sysfs sysfs /sys\nmount -t devtmpfs devtmpfs /dev\nprintf "\\033[30;42m==== VNC console test pattern: HELLO-FROM-GUEST ====\\033[0m\\n" >/dev/tty0\nwhile true; do sleep 3600; done\n' > "$tmp/root/init"
  chmod +x "$tmp/root/init"
  mkdir -p "$GUEST_DIR"
  (cd "$tmp/root" && find . | "$tmp/bx/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -9) > "$GUEST_DIR/initrd.gz"
  cp "$tmp"/kx/boot/vmlinuz-* "$GUEST_DIR/vmlinuz"
fi
log "ready: qemu:///system ($(virsh -q -c qemu:///system version | awk '/Running hypervisor/{print $3, $4}')), guest in $GUEST_DIR"
