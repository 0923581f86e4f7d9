"""Image data throughput through the Glance API next to raw file and raw RBD I/O of the same bytes.

One run, on this machine:

* **API upload / download**: ``PUT /image/v2/images/{id}/file`` of N MiB (Content-Length,
  as the SDK sends it) and ``GET .../file`` read in 1 MiB chunks, through gunicorn
  (the stack of :mod:`tests.tempest.stack`, file store on the same file system);
* **raw file**: the same bytes written (with fsync) and read back with plain file I/O in
  the store's directory;
* **raw rbd**: the same bytes written to and read from an RBD image on the Ceph sandbox
  through librbd (the rbd store's path without HTTP), then removed;
* the API worker's **resident memory** sampled every 0.1 s during the upload: flat (a few
  MiB of growth at most) means the body is streamed, never held.

Usage: ``.venv/bin/python benchmarks/images.py [--mib 1024] [--url URL --facts stack.json]``.
Without ``--url`` it starts (and stops) a stack. Needs PostgreSQL, RabbitMQ, the Ganeti
sandbox (for the stack) and the Ceph sandbox. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import services
from tests.tempest import stack as stackmod

CHUNK = 1 << 20


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def workers(master: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


class Body:
    """N MiB of (pseudo-random, repeated) bytes, read like a file: requests sends Content-Length."""

    def __init__(self, mib: int):
        self.block, self.left, self.total = os.urandom(CHUNK), mib * CHUNK, mib * CHUNK

    def __len__(self) -> int:
        return self.total

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = CHUNK if n is None or n < 0 else min(n, CHUNK)
        n = min(n, self.left)
        self.left -= n
        return self.block[:n]


def token(url: str, facts: dict) -> str:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo1", "domain": {"name": "Default"}, "password": facts["password"]}}},
        "scope": {"project": {"name": "demo1", "domain": {"name": "Default"}}}}}  # fmt: skip
    resp = requests.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def api_round_trip(url: str, facts: dict, mib: int, api_pid: int | None) -> dict:
    s = requests.Session()
    s.headers["X-Auth-Token"] = token(url, facts)
    s.post(f"{url}/image/v2/images", json={}, timeout=30)  # warm the workers' code paths
    image = s.post(f"{url}/image/v2/images", json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
                   timeout=30).json()  # fmt: skip
    samples: dict[int, list[float]] = {}
    done = threading.Event()

    def sample():
        pids = workers(api_pid) if api_pid else []
        while not done.is_set():
            for pid in pids:
                samples.setdefault(pid, []).append(rss_mib(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    resp = s.put(f"{url}/image/v2/images/{image['id']}/file", data=Body(mib),
                 headers={"Content-Type": "application/octet-stream"}, timeout=3600)  # fmt: skip
    upload = time.perf_counter() - t0
    done.set()
    sampler.join()
    resp.raise_for_status()
    t0 = time.perf_counter()
    got = 0
    with s.get(f"{url}/image/v2/images/{image['id']}/file", stream=True, timeout=3600) as r:
        for chunk in r.iter_content(CHUNK):
            got += len(chunk)
    download = time.perf_counter() - t0
    assert got == mib * CHUNK, got
    s.delete(f"{url}/image/v2/images/{image['id']}", timeout=60)
    busy = max(samples.values(), key=lambda v: max(v) - min(v)) if samples else [0.0]
    return {"upload_s": upload, "download_s": download, "rss_start": busy[0], "rss_max": max(busy), "rss_end": busy[-1]}


def raw_file(directory: Path, mib: int) -> dict:
    directory.mkdir(parents=True, exist_ok=True)
    path, block = directory / f"bench-{os.getpid()}.raw", os.urandom(CHUNK)
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)
        f.flush()
        os.fsync(f.fileno())
    write = time.perf_counter() - t0
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        while f.read(CHUNK):
            pass
    read = time.perf_counter() - t0
    path.unlink()
    return {"write_s": write, "read_s": read}


def raw_rbd(mib: int) -> dict:
    import rados
    import rbd

    cluster = rados.Rados(conffile=services.CEPH_CONF, name=f"client.{services.CEPH_USER}")
    cluster.connect(timeout=30)
    name, block = f"bench-{os.getpid()}", os.urandom(CHUNK)
    try:
        with cluster.open_ioctx(services.CEPH_POOL) as ioctx:
            rbd.RBD().create(ioctx, name, mib * CHUNK, old_format=False, features=rbd.RBD_FEATURE_LAYERING)
            try:
                with rbd.Image(ioctx, name) as image:
                    t0 = time.perf_counter()
                    for n in range(mib):
                        image.write(block, n * CHUNK)
                    image.flush()
                    write = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    for n in range(mib):
                        image.read(n * CHUNK, CHUNK)
                    read = time.perf_counter() - t0
            finally:
                rbd.RBD().remove(ioctx, name)
    finally:
        cluster.shutdown()
    return {"write_s": write, "read_s": read}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--url")
    parser.add_argument("--facts", help="stack.json of the running stack (with --url)")
    parser.add_argument("--api-pid", type=int, help="gunicorn master pid of the running stack (with --url)")
    args = parser.parse_args()
    stack = None
    if args.url:
        info = json.loads(Path(args.facts).read_text())
        url, facts, data_dir, api_pid = args.url.rstrip("/"), info["facts"], Path(info["env"]["CYCLADES_DATA_DIR"]), args.api_pid
    else:
        stack = stackmod.start()
        url, facts, data_dir, api_pid = stack.url, stack.facts, Path(stack.env["CYCLADES_DATA_DIR"]), stack.procs["api"].pid
    try:
        api = api_round_trip(url, facts, args.mib, api_pid)
    finally:
        if stack is not None:
            stackmod.stop(stack)
    file_io = raw_file(data_dir / "images", args.mib)
    rbd_io = raw_rbd(args.mib)
    mib = args.mib
    print(f"image data, {mib} MiB (MiB/s; higher is better)")
    print(
        f"  API upload    {mib / api['upload_s']:8.1f}   | raw file write {mib / file_io['write_s']:8.1f} | raw rbd write {mib / rbd_io['write_s']:8.1f}"
    )
    print(
        f"  API download  {mib / api['download_s']:8.1f}   | raw file read  {mib / file_io['read_s']:8.1f} | raw rbd read  {mib / rbd_io['read_s']:8.1f}"
    )
    print(f"  API worker RSS during the upload: start {api['rss_start']:.1f} MiB, max {api['rss_max']:.1f} MiB, "
          f"end {api['rss_end']:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
