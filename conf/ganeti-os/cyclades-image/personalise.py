"""Ganeti OS "cyclades-image": write a server's personalisation into the image just written to its disk.

Used by the create script (create and rebuild). The files (a cloud-init NoCloud seed in
/var/lib/cloud/seed/nocloud, /etc/hostname, root's authorized_keys) are fetched once from
the Cyclades API with a one-time grant (OSP_IMG_PERSONAL) signed with the fetch key, and
written without mounting anything: e2fsprogs' debugfs -w on the disk, a partition being
addressed as "<disk>?offset=<bytes>". The root filesystem is a bare ext2/3/4 filesystem
on the disk, or the first ext2/3/4 partition (MBR primary or GPT) that has an /etc
directory. A disk without one is left as it is (and that is said in the OS log).
Nothing secret is printed: only paths. Stdlib only.
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import urllib.request

SECTOR = 512
EXT_MAGIC = 0xEF53
EXTENDED = (0x05, 0x0F, 0x85)


def say(message):
    sys.stderr.write(f"cyclades-image: {message}\n")


def is_ext(disk, offset):
    """Whether an ext2/3/4 superblock starts 1024 bytes after ``offset``."""
    disk.seek(offset + 1024 + 56)
    magic = disk.read(2)
    return len(magic) == 2 and struct.unpack("<H", magic)[0] == EXT_MAGIC


def partitions(disk):
    """Byte offsets of the partitions of an MBR (primary) or GPT partition table."""
    disk.seek(0)
    mbr = disk.read(SECTOR)
    if len(mbr) < SECTOR or mbr[510:512] != b"\x55\xaa":
        return []
    entries = [mbr[446 + 16 * i : 462 + 16 * i] for i in range(4)]
    if any(e[4] == 0xEE for e in entries):
        disk.seek(SECTOR)
        header = disk.read(92)
        if header[:8] != b"EFI PART":
            return []
        table_lba, count, size = struct.unpack("<QII", header[72:88])
        disk.seek(table_lba * SECTOR)
        table = disk.read(min(count, 256) * size)
        out = []
        for i in range(len(table) // size):
            entry = table[i * size : (i + 1) * size]
            if entry[:16] != b"\x00" * 16:
                out.append(struct.unpack("<Q", entry[32:40])[0] * SECTOR)
        return out
    return [struct.unpack("<I", e[8:12])[0] * SECTOR for e in entries if e[4] and e[4] not in EXTENDED]


def debugfs(target, *args, data=False):
    proc = subprocess.run(["debugfs", *args, target], capture_output=True, timeout=300)
    return proc.stdout if data else proc.stdout.decode("utf-8", "replace")


def root_filesystem(path):
    """debugfs' name for the root filesystem on the disk ("<path>" or "<path>?offset=N"), or None."""
    with open(path, "rb") as disk:
        if is_ext(disk, 0):
            return path
        found = [offset for offset in partitions(disk) if is_ext(disk, offset)]
    for offset in found:
        target = f"{path}?offset={offset}"
        if "Type: directory" in debugfs(target, "-R", "stat /etc"):
            return target
    return None


def kind(target, name):
    """What ``name`` is in the filesystem: "directory", "regular", "symlink", ... or None when it does not exist."""
    for line in debugfs(target, "-R", f'stat "{name}"').splitlines():
        if "Type:" in line:
            return line.split("Type:", 1)[1].split()[0]
    return None


def script(target, files, staged):
    """debugfs commands that write ``files`` (their data staged in local files), making the missing directories.

    debugfs' mkdir of an existing directory and rm of a missing file are not harmless (an
    orphan inode): what exists is looked up first.
    """
    lines, made = [], set()
    for spec in files:
        parts = spec["path"].strip("/").split("/")
        for depth in range(1, len(parts)):
            directory = "/" + "/".join(parts[:depth])
            if directory in made:
                continue
            found = kind(target, directory)
            if found is None:
                lines.append(f'mkdir "{directory}"')
                if directory.endswith("/.ssh"):
                    lines.append(f'sif "{directory}" mode 040700')
            elif found != "directory":
                raise RuntimeError(f"{directory} is a {found} in the image, not a directory")
            made.add(directory)
        if kind(target, spec["path"]) is not None:
            lines.append('rm "{}"'.format(spec["path"]))
        lines.append('write "{}" "{}"'.format(staged[spec["path"]], spec["path"]))
        lines.append('sif "{}" mode 0{:o}'.format(spec["path"], 0o100000 | int(spec["mode"])))
        lines.append('sif "{}" uid 0'.format(spec["path"]))
        lines.append('sif "{}" gid 0'.format(spec["path"]))
    return "\n".join(lines) + "\n"


def inject(path, files):
    """Write the files into the disk's root filesystem; False (nothing written) when it has none."""
    target = root_filesystem(path)
    if target is None:
        say(f"no ext2/3/4 root filesystem on {path}: the image is left as it is (no hostname, key or password set)")
        return False
    if shutil.which("debugfs") is None:
        raise RuntimeError("debugfs (e2fsprogs) is not installed on this node")
    work = tempfile.mkdtemp(prefix="cyclades-personalise-")
    try:
        os.chmod(work, 0o700)
        staged, wanted = {}, {}
        for i, spec in enumerate(files):
            data = base64.b64decode(spec["data"])
            if spec["path"].endswith("/authorized_keys"):
                old = debugfs(target, "-R", 'cat "{}"'.format(spec["path"]), data=True)
                kept = [line for line in old.splitlines(keepends=True) if line.strip() and line not in data.splitlines(True)]
                data = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in kept) + data
            staged[spec["path"]] = os.path.join(work, f"f{i}")
            with open(staged[spec["path"]], "wb") as f:
                f.write(data)
            wanted[spec["path"]] = data
        commands = os.path.join(work, "commands")
        with open(commands, "w") as f:
            f.write(script(target, files, staged))
        debugfs(target, "-w", "-f", commands)
        for name, data in wanted.items():
            if debugfs(target, "-R", f'cat "{name}"', data=True) != data:
                raise RuntimeError(f"writing {name} into {target} failed")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say("personalised {}: {}".format(target, ", ".join(sorted(wanted))))
    return True


def fetch(base_url, grant, signature, timeout):
    url = "{}/image/personalise/{}".format(base_url.rstrip("/"), grant)
    request = urllib.request.Request(url, headers={"X-Cyclades-Grant-Signature": signature})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read(8 << 20).decode("utf-8"))
