"""Start-up time of the all-in-one: from launching ``cyclades-allinone`` to the API answering.

Figures from the same run, each the median of ``--repeat`` launches:

* **baseline**: the bare interpreter (``python -c pass``) and Django set up with
  the product's settings (``cyclades-manage check``): what any start pays;
* **first run**: a fresh data directory (migrations, demo data, simulated cluster,
  certificate, public network created through RAPI jobs);
* **warm run**: the same data directory again.

"Answering" = ``GET /identity`` returns an HTTP status (polled every 20 ms).
Usage: ``.venv/bin/python benchmarks/allinone_startup.py [--repeat 3]``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CYCLADES_")}


def answering(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def launch(data_dir: str) -> float:
    """Seconds from spawning the all-in-one to its API answering; then stop it with Ctrl-C."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "cyclades-allinone"), "--data-dir", data_dir, "--port", str(port)],
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not answering(f"http://127.0.0.1:{port}/identity"):
            if proc.poll() is not None:
                raise SystemExit(f"cyclades-allinone exited with {proc.returncode} before answering")
            if time.perf_counter() - started > 180:
                raise SystemExit("no answer after 180 s")
            time.sleep(0.02)
        return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; median of {args.repeat}")
    with tempfile.TemporaryDirectory(prefix="allinone-bench-") as tmp:
        env = clean_env() | {"CYCLADES_SECRET_KEY": "x" * 40, "CYCLADES_DATA_DIR": tmp}
        bare = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(args.repeat))
        check = statistics.median(timed([str(BIN / "cyclades-manage"), "check"], env) for _ in range(args.repeat))
        first = statistics.median(launch(os.path.join(tmp, f"fresh-{i}")) for i in range(args.repeat))
        warm_dir = os.path.join(tmp, "fresh-0")
        warm = statistics.median(launch(warm_dir) for _ in range(args.repeat))
    print(f"baseline: bare interpreter          {bare * 1000:8.0f} ms")
    print(f"baseline: Django set up (manage check) {check * 1000:5.0f} ms")
    print(f"all-in-one first run (fresh data dir)  {first * 1000:5.0f} ms")
    print(f"all-in-one warm run                    {warm * 1000:5.0f} ms")


if __name__ == "__main__":
    main()
