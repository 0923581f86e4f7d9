"""The UI's static files: served by the product itself (embedded mode and gunicorn alike).

The files are few and small, so each is read once, kept in memory with its content type and
a content hash, and answered with an ``ETag``; the page refers to them as ``name?v=<hash>``,
so they can be cached for a year and a new release is fetched at once. Only files under
``ui/static/ui`` are reachable (the name is looked up in a listing, never joined to a path).
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "static" / "ui"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, content type and short content hash."""

    body: bytes
    content_type: str
    digest: str


_lock = threading.Lock()
_assets: dict[str, Asset] | None = None


def _load() -> dict[str, Asset]:
    found = {}
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        body = path.read_bytes()
        ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        found[path.relative_to(ROOT).as_posix()] = Asset(body, ctype, hashlib.sha256(body).hexdigest()[:12])
    return found


def assets(*, reload: bool = False) -> dict[str, Asset]:
    """Every servable file by its name relative to ``ui/static/ui`` (loaded on first use)."""
    global _assets
    with _lock:
        if _assets is None or reload:
            _assets = _load()
        return _assets


def versioned(name: str) -> str:
    """``name?v=<hash>`` for the page's ``<script>`` and ``<link>`` tags."""
    asset = assets().get(name)
    if asset is None:
        raise LookupError(f"UI asset {name!r} is missing: run scripts/ui-build.sh")
    return f"{name}?v={asset.digest}"
