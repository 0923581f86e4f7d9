"""Driving the UI in Debian's Chromium: launch, log in, use the wizard, wait for states, screenshots.

Playwright (the Python package) drives ``/usr/bin/chromium``; Playwright's own browser
download is never used. Screenshots go to ``var/artifacts/ui/`` (CI keeps them) and each is
checked: a real PNG, not blank, taken while the elements the test names were visible.
"""

from __future__ import annotations

import os
import re
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CYCLADES_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("CYCLADES_UI_ARTIFACTS", ROOT / "var" / "artifacts" / "ui"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright):
    """Chromium with the flags of the test environment (Playwright gives it a fresh, empty profile)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)


@dataclass
class Shot:
    path: Path
    width: int
    height: int
    colours: int


def png_facts(path: Path) -> Shot:
    """Size and a count of distinct byte values of a PNG's pixel data (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return Shot(path, width, height, len(set(pixels[:: max(1, len(pixels) // 200_000)])))


def shot(page, name: str, *expect: str, full_page: bool = True) -> Shot:
    """Screenshot ``name``.png after checking every selector in ``expect`` is visible; check it is not blank."""
    for selector in expect:
        page.locator(selector).first.wait_for(state="visible", timeout=10_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    facts = png_facts(path)
    assert facts.width >= 300 and facts.height >= 300, facts
    assert facts.colours >= 16, f"{path} looks blank ({facts.colours} distinct values)"
    return facts


def login(page, url: str, username: str, password: str, project: str | None = None) -> None:
    """Open the UI and log in; with several projects, choose ``project`` in the chooser."""
    page.goto(url)
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if project is not None:
        page.get_by_label("Project").select_option(label=project)
        page.get_by_role("button", name="Continue").click()
    page.locator("#server-count").wait_for(timeout=20_000)


def wait_true(page, expression: str, timeout: float = 10) -> None:
    """Poll ``expression`` with evaluate (wait_for_function evals a string, which the page's CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"{expression} still false after {timeout} s"
        page.wait_for_timeout(50)


def mark_page(page) -> None:
    """Set a marker a page load would lose: asserting it later proves nothing reloaded."""
    page.evaluate("window.__cycladesNoReload = 'kept'")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__cycladesNoReload") == "kept", "the page was reloaded"


def create_server(
    page, name: str, *, network: str | None = None, key_name: str | None = None, user_data: str | None = None
) -> str:
    """Walk the wizard with its defaults (first image and flavor), name the server; its id."""
    page.get_by_role("link", name="New server").first.click()
    page.locator("#wizard-next").wait_for()
    if key_name is not None or user_data is not None:
        while not page.get_by_label("Key pair").is_visible():
            page.click("#wizard-next")
        if key_name is not None:
            page.get_by_label("Key pair").select_option(label=key_name)
        if user_data is not None:
            page.get_by_label("User data (cloud-init, optional)").fill(user_data)
    if network is not None:
        while not page.locator("fieldset.choices legend", has_text="Networks").is_visible():
            page.click("#wizard-next")
        for box in page.locator("input[name=networks]").all():
            box.set_checked(False)
        page.get_by_label(re.compile(rf"^{re.escape(network)}\b")).check()
    while not page.locator("#wizard-create").is_visible():
        page.click("#wizard-next")
    page.get_by_label("Server name").fill(name)
    page.click("#wizard-create")
    page.wait_for_url(re.compile(r"#/servers/[^/]+$"), timeout=20_000)
    return page.url.rsplit("/", 1)[1]


def row(page, name: str):
    return page.locator("#server-list tr", has=page.locator("a.server-name", has_text=re.compile(rf"^{re.escape(name)}$")))


def wait_row_status(page, name: str, status: str, timeout: float = 60) -> None:
    """Wait (without reloading) until the list shows ``name`` in ``status``."""
    row(page, name).locator(".server-status").filter(has_text=re.compile(rf"^{status}$")).wait_for(timeout=timeout * 1000)


def wait_detail_status(page, status: str, timeout: float = 60) -> None:
    page.locator("#detail-status").filter(has_text=re.compile(rf"^{status}$")).wait_for(timeout=timeout * 1000)


def action(page, name: str) -> None:
    """Click an action on the details page and confirm its dialog if one opens."""
    page.locator(f".detail-actions [data-action='{name}']").click()
    dialog = page.locator(".dialog")  # dialogs open inside the click handler, so it is there now or never
    if dialog.is_visible():
        dialog.locator("button[type=submit]").click()
