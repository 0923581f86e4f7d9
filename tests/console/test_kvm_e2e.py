"""Consoles end to end on a REAL guest: a Ganeti KVM (QEMU/TCG) instance of the sandbox.

One guest for the module (TCG is CPU-heavy on the shared machine), always removed.
The API (live server) finds its VNC endpoint through the real RAPI (Ganeti 3.0.2's
console call fails for kvm+VNC: primary node + network_port), asks the real proxy
for a forwarding, and

* vncdotool connects through the proxy with the password of the Synnefo console
  action and captures the guest's screen, which must show the banner the guest
  prints (``==== VNC console test pattern: HELLO-FROM-GUEST ====``, black on green)
  and be the same picture as a capture taken straight from the guest;
* ``openstack console url show`` gives the noVNC URL; headless Chromium (Debian's,
  driven by Playwright) opens it, and the canvas screenshot must show the banner.

Needs the sandbox with kvm enabled (conf/ganeti-sandbox/enable-kvm.sh).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from logic.enums import OperState
from tests.console.conftest import vncdo
from tests.console.test_proxy import png_pixels
from tests.factories import FlavorFactory, ImageFactory, ServerFactory

pytestmark = [pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(600)]

BANNER = "==== VNC console test pattern: HELLO-FROM-GUEST ===="
GREEN = (0, 168, 0)  # VGA green behind the banner
KVM_ENV = "/run/ganeti-sandbox/kvm.env"
OPENSTACK = str(Path(sys.executable).parent / "openstack")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def kvm_env() -> dict[str, str]:
    if not os.path.exists(KVM_ENV):
        return {}
    return dict(line.split("=", 1) for line in Path(KVM_ENV).read_text().split() if "=" in line)


@pytest.fixture(scope="module")
def kvm_guest(ganeti_sandbox, ganeti_prefix, rapi, django_db_blocker):
    """A running KVM instance named ``<prefix>-<id>`` (the id a Server row then takes); removed at the end."""
    env = kvm_env()
    if "kvm" not in rapi.get_info().get("enabled_hypervisors", []) or not env:
        pytest.fail("kvm is not enabled on the Ganeti sandbox: run conf/ganeti-sandbox/enable-kvm.sh")
    server_id = 900000 + os.getpid() % 90000
    name = f"{ganeti_prefix}-{server_id}"
    job = rapi.create_instance(
        name,
        disk_template="diskless",
        nics=[{"link": ganeti_sandbox.get("GANETI_NIC_LINK", "br-gnt"), "mode": "bridged"}],
        os="noop",
        hypervisor="kvm",
        beparams={"maxmem": 128, "minmem": 128, "vcpus": 1},
        tags=["cyclades:test"],
    )
    try:
        rapi.wait_for_job(job, timeout=180)
        info = rapi.get_instance(name)
        yield {"name": name, "id": server_id, "host": env["GANETI_KVM_VNC_HOST"], "port": info["network_port"]}
    finally:
        rapi.wait_for_job(rapi.remove_instance(name, shutdown_timeout=0), timeout=180)


def wait_for_banner(port: int, password: str | None, out: Path, host_port: str | None = None, timeout: float = 60) -> list:
    """Capture until the banner's green shows (the guest needs a few seconds to boot under TCG)."""
    deadline = time.monotonic() + timeout
    while True:
        args = [str(Path(sys.executable).parent / "vncdo"), "-s", host_port or f"127.0.0.1::{port}"]
        if password:
            args += ["-p", password]
        subprocess.run([*args, "capture", str(out)], capture_output=True, timeout=30)
        if out.exists():
            width, height, pixels = png_pixels(out)
            if pixels.count(GREEN) > 500:
                return [width, height, pixels]
        if time.monotonic() > deadline:
            raise AssertionError(f"the guest never showed its banner (last capture: {out})")
        time.sleep(1)


def banner_rows(width: int, height: int, pixels: list) -> tuple[int, int, int]:
    """(first row, last row, rightmost x) of the green banner; checks black glyphs inside it."""
    rows = [y for y in range(height) if pixels[y * width : (y + 1) * width].count(GREEN) > 100]
    assert rows, "no banner on the screen"
    top, bottom = rows[0], rows[-1]
    xs = [x for x in range(width) for y in (top, (top + bottom) // 2) if pixels[y * width + x] == GREEN]
    glyphs = sum(1 for y in range(top, bottom + 1) for x in range(max(xs)) if pixels[y * width + x] == (0, 0, 0))
    assert glyphs > 200, "the banner has no text in it"
    return top, bottom, max(xs)


@pytest.fixture
def console_server(kvm_guest, live_identity, sandbox_backend, proxy_settings):
    """A Server row (ACTIVE) of the demo member for the KVM instance."""
    account = live_identity.member
    server = ServerFactory(
        id=kvm_guest["id"],
        user=account.user,
        project=account.project,
        backend=sandbox_backend,
        flavor=FlavorFactory(),
        image=ImageFactory(),
        operstate=OperState.STARTED,
    )
    return server


def test_vncdo_through_the_proxy_shows_the_guest_boot_text(kvm_guest, console_server, live_identity, proxy, tmp_path):
    import requests

    # straight from the guest: the reference picture (the guest prints its banner once booted)
    direct = wait_for_banner(0, None, tmp_path / "direct.png", host_port=f"{kvm_guest['host']}::{kvm_guest['port']}")
    url = f"{live_identity.url}/compute/v2.0/servers/{console_server.pk}/action"
    resp = requests.post(url, json={"console": {"type": "vnc"}}, headers=live_identity.member.headers, timeout=30)
    assert resp.status_code == 200, resp.text
    console = resp.json()["console"]
    assert console["host"] == "127.0.0.1" and console["port"] in proxy.config.ports
    out = tmp_path / "proxied.png"
    result = vncdo(console["port"], console["password"], out)
    assert result.returncode == 0, result.stderr
    width, height, pixels = png_pixels(out)
    assert (width, height) == (direct[0], direct[1])
    top, bottom, right = banner_rows(width, height, pixels)
    # the banner is as wide as the text the guest printed (VGA text cells of width/80 pixels)
    assert right + 1 == len(BANNER) * (width // 80), (right, width)
    assert banner_rows(*direct) == (top, bottom, right)
    same = sum(1 for a, b in zip(pixels, direct[2], strict=True) if a == b)
    assert same / len(pixels) > 0.98  # the same screen as seen directly (a cursor may blink)
    # one-shot: the same password does not work twice; another project's member gets a 404
    assert vncdo(console["port"], console["password"], tmp_path / "again.png", timeout=15).returncode != 0
    resp = requests.post(url, json={"console": {"type": "vnc"}}, headers=live_identity.other.headers, timeout=30)
    assert resp.status_code == 404


def test_openstack_console_url_in_headless_chromium_shows_the_guest(kvm_guest, console_server, live_identity, tmp_path):
    from playwright.sync_api import sync_playwright

    wait_for_banner(0, None, tmp_path / "direct.png", host_port=f"{kvm_guest['host']}::{kvm_guest['port']}")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **live_identity.os_env(live_identity.member)}
    proc = subprocess.run(
        [OPENSTACK, "console", "url", "show", "--novnc", str(console_server.pk), "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    url = json.loads(proc.stdout)["url"]
    assert "/vnc.html?token=" in url
    shot = tmp_path / "canvas.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 600})
            page.goto(url)
            page.wait_for_selector("#status[data-state=connected]", timeout=30000)
            canvas = page.locator("#screen canvas")
            deadline = time.monotonic() + 30
            while True:
                canvas.screenshot(path=str(shot))
                width, height, pixels = png_pixels(shot)
                if pixels.count(GREEN) > 300 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            status = page.locator("#status").inner_text()
        finally:
            browser.close()
    assert status.startswith("Connected")
    assert len(set(pixels)) > 2, "blank canvas"
    # the banner's green (scaled to the page, so colours blend at the edges: count the pure green)
    assert pixels.count(GREEN) > 300, f"no guest banner on the canvas (screenshot {shot})"
