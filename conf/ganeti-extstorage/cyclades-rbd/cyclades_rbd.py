#!/usr/bin/python3
"""Ganeti ExtStorage provider "cyclades-rbd": disks as Ceph RBD images, through librbd only.

Kernel RBD (``rbd map``) is not needed: ``attach`` serves the image with
``qemu-storage-daemon`` (QEMU's librbd driver) as a FUSE-exported file and puts a loop
device on that file, so Ganeti gets a real block device (``/dev/loopN``) for the OS
scripts and any hypervisor, and KVM may use the userspace URI printed after it
(``kvm:rbd:<pool>/<image>:id=...:conf=...``) when the disk's ``access`` is userspace.

Ganeti runs one script per action (create, attach, detach, remove, grow, setinfo,
verify, snapshot); each is a two-line wrapper calling this file with the action. The
environment carries VOL_NAME (Ganeti's unique name), VOL_SIZE / VOL_NEW_SIZE (MiB),
VOL_METADATA, VOL_SNAPSHOT_NAME and the disk's ext params as EXTP_<NAME>:

* ``EXTP_IMAGE=<name>``: the disk is an RBD image Cyclades owns (a volume, or a boot
  volume): create adopts it (it must exist), remove only unmaps it; Cyclades deletes it.
* ``EXTP_ORIGIN=<pool>/<image>@<snap>``: create makes a copy-on-write clone of that
  protected snapshot (a server's disk from an image in the rbd image store), grown to
  VOL_SIZE; Ganeti owns it (remove deletes it).
* neither: create makes a blank image named VOL_NAME; Ganeti owns it.
* ``EXTP_POOL``: the pool (default: POOL of the configuration).

The configuration, ``cyclades-rbd.conf`` beside this file (written by ``cyclades-manage
ganeti-extstorage-install``), gives CEPH_CONF, CEPH_USER, POOL, STATE_DIR and NETNS (a
network namespace under /run/netns in which Ceph clients run, for nodes whose daemons
live in another namespace than the Ceph network, as in the sandbox; empty: none).
Every action is idempotent. Stdlib only.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.realpath(__file__))
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,200}$")
ORIGIN_RE = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9][A-Za-z0-9_.+-]*)@([A-Za-z0-9_.+-]+)$")


def conf():
    values = {
        "CEPH_CONF": "/etc/ceph/ceph.conf",
        "CEPH_USER": "admin",
        "POOL": "rbd",
        "STATE_DIR": "/run/cyclades-rbd",
        "NETNS": "",
        "QSD": "qemu-storage-daemon",
    }
    path = os.path.join(HERE, "cyclades-rbd.conf")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                key, sep, value = line.strip().partition("=")
                if sep and not key.startswith("#"):
                    values[key.strip()] = value.strip()
    return values


CONF = conf()


def fail(message):
    sys.stderr.write(f"cyclades-rbd: {message}\n")
    sys.exit(1)


def log(message):
    sys.stderr.write(f"cyclades-rbd: {message}\n")


def in_ceph_net(argv):
    """Run Ceph clients in the configured network namespace (only the network: files and mounts stay ours)."""
    if CONF["NETNS"]:
        return ["nsenter", "--net=/run/netns/{}".format(CONF["NETNS"]), "--"] + argv
    return argv


def rbd(*args, check=True):
    argv = in_ceph_net(["rbd", "--conf", CONF["CEPH_CONF"], "--id", CONF["CEPH_USER"]] + list(args))
    result = subprocess.run(argv, capture_output=True, text=True)
    if check and result.returncode != 0:
        fail("rbd {} failed ({}): {}".format(" ".join(args), result.returncode, result.stderr.strip()))
    return result


def target():
    """(pool, image name, owned by Cyclades) of this disk."""
    env = os.environ
    pool = env.get("EXTP_POOL") or CONF["POOL"]
    image = env.get("EXTP_IMAGE", "")
    name = image or env.get("VOL_NAME", "")
    if not NAME_RE.match(pool) or not NAME_RE.match(name):
        fail(f"invalid pool/image name {pool!r}/{name!r}")
    return pool, name, bool(image)


def info(pool, name):
    """The image's ``rbd info`` as a dict, or None when it does not exist."""
    result = rbd("info", "--format", "json", f"{pool}/{name}", check=False)
    if result.returncode != 0:
        if "No such file" in result.stderr or "error opening image" in result.stderr:
            return None
        fail(f"rbd info {pool}/{name} failed: {result.stderr.strip()}")
    return json.loads(result.stdout)


def mib(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        fail(f"invalid size {value!r} (MiB expected)")


# ------------------------------------------------------------------ attach state (per image)


def state_dir(pool, name):
    return os.path.join(CONF["STATE_DIR"], f"{pool}.{name}")


def _pid(directory):
    try:
        with open(os.path.join(directory, "qsd.pid")) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def _backing(device):
    """The ``major:minor`` of the file system behind a loop device (empty when it is not bound)."""
    result = subprocess.run(["losetup", "-n", "-O", "BACK-MAJ:MIN", device], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 else ""


def _loop_of(directory):
    """The loop device serving the image, as recorded at attach: still bound to the same FUSE export.

    Recorded rather than looked up by path: the FUSE mount exists only in the mount namespace of the
    process that attached (noded's); a later call from another namespace sees the plain file there.
    """
    try:
        with open(os.path.join(directory, "loop")) as f:
            device, backing = f.read().split()
    except (OSError, ValueError):
        return None
    return device if backing and _backing(device) == backing else None


def _qmp(directory, *commands):
    """Send QMP commands to the image's qemu-storage-daemon; returns the last answer."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(30)
    sock.connect(os.path.join(directory, "qmp.sock"))
    stream = sock.makefile("rw")
    stream.readline()  # greeting
    answer = None
    for command in ({"execute": "qmp_capabilities"},) + commands:
        stream.write(json.dumps(command) + "\n")
        stream.flush()
        while True:
            line = stream.readline()
            if not line:
                fail("qemu-storage-daemon closed QMP during {}".format(command["execute"]))
            answer = json.loads(line)
            if "event" not in answer:
                break
        if "error" in answer:
            fail("QMP {} failed: {}".format(command["execute"], answer["error"].get("desc")))
    sock.close()
    return answer


def attached(pool, name):
    directory = state_dir(pool, name)
    if _pid(directory) is None:
        return None
    return _loop_of(directory)


def do_attach():
    pool, name, _ = target()
    device = attached(pool, name)
    if device is None:
        device = _start(pool, name)
    sys.stdout.write(f"{device}\n")
    sys.stdout.write("kvm:rbd:{}/{}:id={}:conf={}\n".format(pool, name, CONF["CEPH_USER"], CONF["CEPH_CONF"]))


def _start(pool, name):
    if info(pool, name) is None:
        fail(f"RBD image {pool}/{name} does not exist")
    directory = state_dir(pool, name)
    _stop(pool, name)  # a stale daemon or loop device of an earlier attach
    os.makedirs(directory, exist_ok=True)
    export = os.path.join(directory, "export")
    open(export, "a").close()
    blockdev = "driver=rbd,node-name=disk,pool={},image={},conf={},user={},cache.direct=off".format(
        pool,
        name,
        CONF["CEPH_CONF"],
        CONF["CEPH_USER"],
    )
    argv = in_ceph_net(
        [
            CONF["QSD"],
            "--blockdev",
            blockdev,
            "--export",
            f"type=fuse,id=export,node-name=disk,mountpoint={export},writable=on",
            "--chardev",
            "socket,id=qmp,path={},server=on,wait=off".format(os.path.join(directory, "qmp.sock")),
            "--monitor",
            "chardev=qmp",
            "--pidfile",
            os.path.join(directory, "qsd.pid"),
            "--daemonize",
        ]
    )
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"qemu-storage-daemon for {pool}/{name} failed: {result.stderr.strip()}")
    loop = subprocess.run(
        ["losetup", "--find", "--show", "--direct-io=off", export],
        capture_output=True,
        text=True,
    )
    if loop.returncode != 0:
        _stop(pool, name)
        fail(f"losetup on {export} failed: {loop.stderr.strip()}")
    device = loop.stdout.strip()
    with open(os.path.join(directory, "loop"), "w") as f:
        f.write(f"{device} {_backing(device)}\n")
    return device


def _stop(pool, name):
    directory = state_dir(pool, name)
    device = _loop_of(directory)
    if device:
        subprocess.run(["losetup", "-d", device], check=False)
        if _loop_of(directory):
            fail(f"{device} is busy: cannot detach {pool}/{name}")
    pid = _pid(directory)
    if pid is not None:
        try:
            _qmp(directory, {"execute": "quit"})
        except (OSError, ValueError, SystemExit):
            os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if _pid(directory) is None:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
    if os.path.isdir(directory):
        for item in os.listdir(directory):
            try:
                os.unlink(os.path.join(directory, item))
            except OSError as exc:
                log(f"cannot remove {item}: {exc}")
        os.rmdir(directory)


def do_detach():
    pool, name, _ = target()
    _stop(pool, name)


# ------------------------------------------------------------------ the image itself


def do_create():
    pool, name, owned = target()
    size = mib(os.environ.get("VOL_SIZE"))
    existing = info(pool, name)
    if owned:
        if existing is None:
            fail(f"RBD image {pool}/{name} (EXTP_IMAGE) does not exist")
        return
    if existing is not None:
        log(f"{pool}/{name} exists already (an earlier try): adopted")
        return
    origin = os.environ.get("EXTP_ORIGIN", "")
    if origin:
        if not ORIGIN_RE.match(origin):
            fail(f"invalid EXTP_ORIGIN {origin!r} (pool/image@snap expected)")
        rbd("clone", origin, f"{pool}/{name}")
        current = info(pool, name)["size"] >> 20
        if current < size:
            rbd("resize", "--size", f"{size}M", f"{pool}/{name}")
        return
    rbd("create", "--size", f"{size}M", "--image-feature", "layering", f"{pool}/{name}")


def do_remove():
    pool, name, owned = target()
    _stop(pool, name)
    if owned:
        return  # Cyclades' volume: it lives on outside Ganeti
    if info(pool, name) is None:
        return
    rbd("snap", "purge", f"{pool}/{name}")
    rbd("rm", f"{pool}/{name}")


def do_grow():
    pool, name, _ = target()
    size = mib(os.environ.get("VOL_NEW_SIZE"))
    device = attached(pool, name)
    if device is None:
        rbd("resize", "--size", f"{size}M", f"{pool}/{name}")
        return
    # librbd resizes the image through the serving daemon; the loop device then re-reads its size
    _qmp(state_dir(pool, name), {"execute": "block_resize", "arguments": {"node-name": "disk", "size": size << 20}})
    # the kernel caches the FUSE file's size for a moment: re-read until the loop device shows the new one
    for _ in range(100):
        subprocess.run(["losetup", "-c", device], check=True)
        shown = subprocess.run(["blockdev", "--getsize64", device], stdout=subprocess.PIPE, text=True)
        if shown.stdout.strip() == str(size << 20):
            return
        time.sleep(0.05)
    fail(f"{device} still shows {shown.stdout.strip()} bytes after growing {pool}/{name} to {size} MiB")


def do_setinfo():
    pool, name, _ = target()
    rbd("image-meta", "set", f"{pool}/{name}", "ganeti-info", os.environ.get("VOL_METADATA", ""))


def do_snapshot():
    pool, name, _ = target()
    snap = os.environ.get("VOL_SNAPSHOT_NAME") or "ganeti"
    if not NAME_RE.match(snap):
        fail(f"invalid snapshot name {snap!r}")
    rbd("snap", "create", f"{pool}/{name}@{snap}")


def do_verify():
    env = os.environ
    origin = env.get("EXTP_ORIGIN", "")
    if origin and not ORIGIN_RE.match(origin):
        fail(f"invalid origin {origin!r}: pool/image@snap expected")
    if env.get("EXTP_IMAGE") and origin:
        fail("image and origin exclude each other")
    for key in ("EXTP_IMAGE", "EXTP_POOL"):
        if env.get(key) and not NAME_RE.match(env[key]):
            fail(f"invalid {key} {env[key]!r}")


ACTIONS = {
    "create": do_create,
    "attach": do_attach,
    "detach": do_detach,
    "remove": do_remove,
    "grow": do_grow,
    "setinfo": do_setinfo,
    "snapshot": do_snapshot,
    "verify": do_verify,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ACTIONS:
        fail("usage: cyclades_rbd.py {}".format("|".join(sorted(ACTIONS))))
    ACTIONS[sys.argv[1]]()
