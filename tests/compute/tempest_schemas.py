"""tempest's own response schemas, loaded from the tempest the harness installs (``var/tempest/venv``).

Shape tests check bodies against the very files tempest validates with, picked the
way tempest's clients pick them: the schema module of the highest
``v2_<minor>`` directory at or below the request's microversion that has one.
They are plain dict modules (no tempest dependency is imported); when tempest is
not installed yet, :func:`schema` installs it first (like the tempest harness).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_COMPUTE = "tempest.lib.api_schema.response.compute"


@cache
def tempest_root() -> Path | None:
    """The installed tempest package directory, or None."""
    found = sorted((ROOT / "var" / "tempest" / "venv" / "lib").glob("python3*/site-packages/tempest/__init__.py"))
    return found[-1].parent if found else None


def _install_tempest() -> None:
    """Install the pinned tempest (once, ~20 s) the way the tempest harness does; fail if that fails."""
    from tests.tempest.run_tempest import ensure_tempest

    try:
        ensure_tempest()
    except Exception as exc:  # a test that cannot get its schemas must say why, not skip
        pytest.fail(f"cannot install tempest for its response schemas: {exc}", pytrace=False)
    tempest_root.cache_clear()


def _import(module: str):
    root = tempest_root()
    if "tempest" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tempest", root / "__init__.py", submodule_search_locations=[str(root)])
        package = importlib.util.module_from_spec(spec)
        sys.modules["tempest"] = package
        spec.loader.exec_module(package)
    return importlib.import_module(module)


def _versions(module: str) -> list[tuple[int, int]]:
    base = tempest_root() / "lib" / "api_schema" / "response" / "compute"
    found = []
    for directory in base.glob("v2_*"):
        if (directory / f"{module}.py").exists():
            found.append((2, int(directory.name.split("_")[1])))
    return sorted(found)


def schema(module: str, name: str, version: str) -> dict:
    """tempest's ``<name>`` of ``<module>`` (e.g. servers.get_server) for a request at ``version``."""
    if tempest_root() is None:
        _install_tempest()
    major, minor = (int(p) for p in version.split("."))
    usable = [v for v in _versions(module) if v <= (major, minor)]
    chosen = usable[-1]
    return getattr(_import(f"{_COMPUTE}.v{chosen[0]}_{chosen[1]}.{module}"), name)


def validate(response, module: str, name: str, version: str) -> None:
    """Check status code and body the way tempest's rest client does (Draft 4 with its formats)."""
    import jsonschema

    rules = schema(module, name, version)
    assert response.status_code in rules["status_code"], (response.status_code, response.content)
    checker = jsonschema.FormatChecker()
    checker.checks("iso8601-date-time")(_iso8601)
    body = response.json() if response.content else None
    if "response_body" in rules:
        jsonschema.Draft4Validator(rules["response_body"], format_checker=checker).validate(body)


def _iso8601(value) -> bool:
    if value is None:
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
