"""50 concurrent VNC console sessions through ``cyclades-vncauthproxy``, next to direct connections.

The guest is :class:`vncauthproxy.testvnc.TestVncServer` (VNC password, like Ganeti's
``vnc_password_file``) in its own process; the proxy is the real ``cyclades-vncauthproxy``
daemon in its own process (settings from the environment, its own ports and secret). The
clients (one asyncio process, RFB 3.8 with VNC authentication) run the same workload twice
in the same run, first straight to the guest (the baseline), then through a one-shot
forwarding each that the control socket handed out:

* **throughput**: every session asks for the whole 640x400 screen (Raw, 32 bpp: 1 MB) again
  and again for ``--seconds``; total MB/s, and the proxy's CPU seconds per GB relayed;
* **latency**: every session asks for a 16x16 screen (1 KiB) of a second guest, one request
  at a time; median and 99th percentile of request -> whole answer, and what the proxy adds;
* **set-up**: connect + RFB handshake + authentication per session (through the proxy this
  includes the proxy's own handshake with the guest).

The proxy's resident memory (VmRSS) is read with 0 sessions (started, idle), with 50 sessions
open (after the throughput phase, before they close), and with 0 again (all closed, forwardings
swept). The machine may be shared: ``--rounds`` repeats the pair, each printed.

    .venv/bin/python benchmarks/console.py [--sessions 50] [--seconds 8] [--rounds 2]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tempest.stack import free_port, free_port_range  # noqa: E402
from vncauthproxy.client import request_forwarding, status  # noqa: E402
from vncauthproxy.rfb import vnc_response  # noqa: E402

GUEST_PASSWORD = "gpw12345"
GUEST_CODE = """
import asyncio, sys
from vncauthproxy.testvnc import TestVncServer

async def main():
    big = TestVncServer(width=640, height=400, password=sys.argv[1])
    small = TestVncServer(width=16, height=16, password=sys.argv[1])
    await big.start(); await small.start()
    print(big.port, small.port, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Proxy:
    proc: subprocess.Popen
    control_port: int
    secret: str

    def forward(self, port: int) -> dict:
        return request_forwarding(
            "127.0.0.1", port, control_host="127.0.0.1", control_port=self.control_port, secret=self.secret,
            guest_password=GUEST_PASSWORD, ttl=120, label="benchmark",
        )  # fmt: skip

    def status(self) -> dict:
        return status(control_host="127.0.0.1", control_port=self.control_port, secret=self.secret)


def start_proxy(workdir: Path, sessions: int) -> Proxy:
    secret = secrets.token_urlsafe(32)
    (workdir / "secret").write_text(secret + "\n")
    control = free_port()
    ports = free_port_range(sessions + 10)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CYCLADES_SECRET_KEY": "benchmark-only-" + secrets.token_hex(16),
        "CYCLADES_DATA_DIR": str(workdir),
        "CYCLADES_DATABASE_URL": "postgresql://unused@127.0.0.1:1/unused",
        "CYCLADES_LOG_FORMAT": "json",
        "CYCLADES_LOG_LEVEL": "INFO",
        "CYCLADES_VNCAUTHPROXY_SECRET_FILE": str(workdir / "secret"),
        "CYCLADES_VNCAUTHPROXY_CONTROL_PORT": str(control),
        "CYCLADES_VNCAUTHPROXY_PORT_RANGE": f"{ports.start}-{ports.stop - 1}",
        "CYCLADES_VNCAUTHPROXY_WEB_PORT": "-1",
        "CYCLADES_VNCAUTHPROXY_MAX_SESSIONS": str(max(500, sessions * 2)),
    }
    log = open(workdir / "vncauthproxy.log", "w")  # noqa: SIM115 - lives as long as the process
    exe = Path(sys.executable).parent / "cyclades-vncauthproxy"
    proc = subprocess.Popen([str(exe)], env=env, stdout=log, stderr=subprocess.STDOUT)
    proxy = Proxy(proc, control, secret)
    deadline = time.monotonic() + 20
    while True:
        try:
            proxy.status()
            return proxy
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the proxy did not start: {(workdir / 'vncauthproxy.log').read_text()[-2000:]}") from None
            time.sleep(0.1)


# ----------------------------------------------------------------------------- the VNC client
class Session:
    """One RFB 3.8 client with VNC authentication; ``frame()`` asks for the whole screen and reads it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.width = self.height = 0

    @classmethod
    async def open(cls, port: int, password: str) -> Session:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        s = cls(reader, writer)
        version = await reader.readexactly(12)
        assert version.startswith(b"RFB 003."), version
        writer.write(b"RFB 003.008\n")
        count = (await reader.readexactly(1))[0]
        types = await reader.readexactly(count)
        assert 2 in types, types
        writer.write(b"\x02")
        challenge = await reader.readexactly(16)
        writer.write(vnc_response(password, challenge))
        (result,) = struct.unpack("!I", await reader.readexactly(4))
        assert result == 0, "authentication failed"
        writer.write(b"\x01")  # shared
        init = await reader.readexactly(24)
        s.width, s.height = struct.unpack("!HH", init[:4])
        await reader.readexactly(struct.unpack("!I", init[20:24])[0])
        writer.write(struct.pack("!BxH", 2, 1) + struct.pack("!i", 0))  # SetEncodings: Raw
        return s

    async def frame(self) -> int:
        self.writer.write(struct.pack("!BBHHHH", 3, 0, 0, 0, self.width, self.height))
        header = await self.reader.readexactly(4)
        rects = struct.unpack("!H", header[2:])[0]
        size = 4
        for _ in range(rects):
            _x, _y, w, h, _enc = struct.unpack("!HHHHi", await self.reader.readexactly(12))
            await self.reader.readexactly(w * h * 4)
            size += 12 + w * h * 4
        return size

    def close(self) -> None:
        self.writer.close()


@dataclass
class Phase:
    setup: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    nbytes: int = 0
    seconds: float = 0.0
    proxy_cpu: float = 0.0


async def open_all(targets: list[tuple[int, str]], phase: Phase) -> list[Session]:
    async def one(port: int, password: str) -> Session:
        t = time.perf_counter()
        s = await Session.open(port, password)
        phase.setup.append(time.perf_counter() - t)
        return s

    return list(await asyncio.gather(*(one(*t) for t in targets)))


async def stream(sessions: list[Session], seconds: float, phase: Phase) -> None:
    deadline = time.perf_counter() + seconds

    async def one(s: Session) -> None:
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            size = await s.frame()  # (not "phase.nbytes += await ...": that reads nbytes before the await)
            phase.nbytes += size
            phase.latencies.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    await asyncio.gather(*(one(s) for s in sessions))
    phase.seconds = time.perf_counter() - t0


def targets(proxy: Proxy | None, guest_port: int, n: int) -> list[tuple[int, str]]:
    """(port, password) per session: the guest itself, or one one-shot forwarding each."""
    if proxy is None:
        return [(guest_port, GUEST_PASSWORD)] * n
    return [(int(f["port"]), f["password"]) for f in (proxy.forward(guest_port) for _ in range(n))]


async def run_pair(args, proxy: Proxy, big: int, small: int, rss: dict, first: bool) -> dict[str, tuple[Phase, ...]]:
    """Throughput and latency, direct then through the proxy; RSS with 50 sessions open (first round)."""
    out: dict[str, tuple[Phase, ...]] = {}
    for label, via in (("direct", None), ("proxy", proxy)):
        thr, lat, alone = Phase(), Phase(), Phase()
        cpu0 = cpu_seconds(proxy.proc.pid)
        sessions = await open_all(targets(via, big, args.sessions), thr)
        await stream(sessions, args.seconds, thr)
        thr.proxy_cpu = cpu_seconds(proxy.proc.pid) - cpu0
        if via is not None and first:
            rss["50 sessions"] = rss_kib(proxy.proc.pid)
            rss["sessions seen by the proxy"] = proxy.status()["sessions"]
        for s in sessions:
            s.close()
        cpu0 = cpu_seconds(proxy.proc.pid)
        sessions = await open_all(targets(via, small, args.sessions), lat)
        await stream(sessions, args.seconds / 2, lat)
        lat.proxy_cpu = cpu_seconds(proxy.proc.pid) - cpu0
        for s in sessions:
            s.close()
        sessions = await open_all(targets(via, small, 1), alone)  # one session alone: the hop without queueing
        await stream(sessions, 2, alone)
        sessions[0].close()
        out[label] = (thr, lat, alone)
        await asyncio.sleep(0.5)
    return out


def ms(values: list[float], q: float) -> float:
    if q == 50:
        return statistics.median(values) * 1000
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


def report(n: int, result: dict[str, tuple[Phase, ...]]) -> list[str]:
    lines = []
    d_thr, d_lat, d_alone = result["direct"]
    p_thr, p_lat, p_alone = result["proxy"]
    for label, (thr, lat, alone) in result.items():
        mbps = thr.nbytes / thr.seconds / 1e6
        lines.append(
            f"  {label:6s}  throughput {mbps:7.1f} MB/s ({len(thr.latencies)} full screens, 1 MB each, "
            f"p50 {ms(thr.latencies, 50):6.1f} ms)  |  1 KiB latency p50 {ms(lat.latencies, 50):6.2f} ms "
            f"p99 {ms(lat.latencies, 99):6.2f} ms ({len(lat.latencies)} requests; one session alone p50 "
            f"{ms(alone.latencies, 50):5.3f} ms)  |  set-up p50 {ms(thr.setup, 50):6.1f} ms"
        )
    ratio = (p_thr.nbytes / p_thr.seconds) / (d_thr.nbytes / d_thr.seconds)
    added50 = ms(p_lat.latencies, 50) - ms(d_lat.latencies, 50)
    added99 = ms(p_lat.latencies, 99) - ms(d_lat.latencies, 99)
    added_alone = ms(p_alone.latencies, 50) - ms(d_alone.latencies, 50)
    gb = p_thr.nbytes / 1e9
    lines.append(
        f"  proxy/direct throughput {ratio:.2f}; added latency with {n} sessions p50 {added50:+.2f} ms, p99 {added99:+.2f} ms, "
        f"one session alone p50 {added_alone:+.3f} ms;\n  "
        f"proxy CPU {p_thr.proxy_cpu / gb:.1f} s per GB relayed ({p_thr.proxy_cpu:.1f} s for {gb:.2f} GB, "
        f"{n} sessions)"
    )
    return lines


async def main_async(args) -> int:
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        workdir = Path(tmp)
        guest = subprocess.Popen(
            [sys.executable, "-c", GUEST_CODE, GUEST_PASSWORD], env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        proxy = None
        try:
            big, small = (int(p) for p in guest.stdout.readline().split())
            proxy = start_proxy(workdir, args.sessions)
            await asyncio.sleep(1)
            fresh = rss_kib(proxy.proc.pid)
            # warm-up (not measured): imports, the guest's screen in Raw 32 bpp, the proxy's first session
            for port, password in [(big, GUEST_PASSWORD), (small, GUEST_PASSWORD), *targets(proxy, small, 1)]:
                warm = await Session.open(port, password)
                await warm.frame()
                warm.close()
            rss = {"0 sessions (idle)": rss_kib(proxy.proc.pid)}
            print(f"console benchmark: {args.sessions} concurrent sessions, {args.seconds:.0f} s streaming per phase, "
                  f"{args.rounds} round(s); guest = TestVncServer process (VNC password), proxy = cyclades-vncauthproxy process")  # fmt: skip
            for round_no in range(1, args.rounds + 1):
                result = await run_pair(args, proxy, big, small, rss, round_no == 1)
                print(f"round {round_no} (machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
                print("\n".join(report(args.sessions, result)))
            await asyncio.sleep(2)  # closed sessions end, the sweep drops anything left
            left = proxy.status()
            rss["0 sessions (after)"] = rss_kib(proxy.proc.pid)
            print(
                f"proxy RSS: just started {fresh / 1024:.1f} MiB; 0 sessions (after one warm-up session) "
                f"{rss['0 sessions (idle)'] / 1024:.1f} MiB, with {rss['sessions seen by the proxy']} "
                f"sessions {rss['50 sessions'] / 1024:.1f} MiB, after they closed {rss['0 sessions (after)'] / 1024:.1f} MiB "
                f"(pending forwardings {left['pending']}, sessions {left['sessions']})"
            )
            sessions_logged = sum(1 for line in (workdir / "vncauthproxy.log").read_text().splitlines() if "vnc-session" in line)
            print(f"proxy log: {sessions_logged} vnc-session lines")
        finally:
            if proxy is not None:
                proxy.proc.terminate()
                proxy.proc.wait(10)
            guest.terminate()
            guest.wait(10)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
