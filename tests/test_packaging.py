"""`pip install .` in a clean virtualenv gives working console scripts."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ["cyclades-manage", "cyclades-dispatcher", "cyclades-eventd", "cyclades-vncauthproxy", "cyclades-allinone"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtualenv with the product installed from a copy of the source tree."""
    base = tmp_path_factory.mktemp("pkg")
    src = base / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv*", ".git", "var", "__pycache__", "*.egg-info", "build"))
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    proc = subprocess.run(
        [str(env_dir / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(src)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return env_dir / "bin"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYCLADES_", "DJANGO_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_console_script_answers_help(installed, script):
    exe = installed / script
    assert exe.exists(), f"{script} was not installed"
    args = ["help"] if script == "cyclades-manage" else ["--help"]
    env = clean_env(CYCLADES_SECRET_KEY="p" * 40, CYCLADES_DATA_DIR=str(installed.parent / "data"))
    proc = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120, env=env, cwd="/")
    assert proc.returncode == 0, proc.stderr
    assert "usage" in (proc.stdout + proc.stderr).lower() or "subcommands" in proc.stdout.lower()


@pytest.mark.slow
def test_installed_manage_migrates_an_sqlite_database(installed, tmp_path):
    env = clean_env(CYCLADES_SECRET_KEY="p" * 40, CYCLADES_DATA_DIR=str(tmp_path))
    proc = subprocess.run(
        [str(installed / "cyclades-manage"), "migrate", "-v0"], capture_output=True, text=True, timeout=300, env=env, cwd="/"
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cyclades.sqlite3").exists()


@pytest.mark.slow
def test_installed_package_carries_the_ui_and_its_jquery(installed):
    """The UI's files (with jQuery built by scripts/ui-build.sh) are in the installed package."""
    code = "import ui.assets as a; print(' '.join(sorted(a.assets())))"
    proc = subprocess.run(
        [str(installed / "python"), "-c", code], capture_output=True, text=True, timeout=60, env=clean_env(), cwd="/"
    )
    assert proc.returncode == 0, proc.stderr
    assert {"vendor/jquery.min.js", "js/app.js", "css/app.css"} <= set(proc.stdout.split())


def test_every_top_level_package_is_installed():
    """A package left out of setup.py imports from a checkout but not once installed (cwd elsewhere)."""
    from setuptools import find_packages

    source = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests"}
    text = (ROOT / "setup.py").read_text()
    listed = {name.split("*")[0].strip('"') for name in text.split("include=[", 1)[1].split("]", 1)[0].split() if name}
    listed = {name.strip('",') for name in listed}
    assert source <= listed, f"not installed by setup.py: {sorted(source - listed)}"
    installed = {name.split(".")[0] for name in find_packages(str(ROOT), include=[f"{n}*" for n in listed])}
    assert source <= installed
