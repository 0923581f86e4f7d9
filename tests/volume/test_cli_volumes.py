"""The unmodified ``openstack volume ...`` CLI end to end against the running stack (tests/fixtures_loop.py).

Every command is the real CLI (openstacksdk under it) in a subprocess, talking to the API
under gunicorn on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]

OPENSTACK = str(Path(sys.executable).parent / "openstack")


@pytest.fixture(scope="module")
def cli(core_loop):
    """``cli(*args, user=...)``: run ``openstack <args>``; JSON output parsed when ``-f json`` is asked for."""

    def run(*args: str, user: str = "demo1", check: bool = True):
        project = next(a["project_name"] for a in core_loop.facts["accounts"] if a["username"] == user) \
            if user != core_loop.facts["admin"]["username"] else core_loop.facts["admin"]["project_name"]  # fmt: skip
        env = {"PATH": os.environ["PATH"], "HOME": str(core_loop.workdir), **core_loop.os_env(user, project)}
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        if "-f" in args and args[args.index("-f") + 1] == "json" and proc.returncode == 0:
            return json.loads(proc.stdout)
        return proc

    return run


def test_volume_lifecycle_with_the_cli(cli):
    name = f"vol{os.getpid()}"
    created = cli("volume", "create", "--size", "1", "--property", "purpose=test", name, "-f", "json")
    assert created["size"] == 1 and created["status"] == "available" and created["type"] == "__DEFAULT__"
    try:
        listed = cli("volume", "list", "-f", "json")
        row = next(v for v in listed if v["ID"] == created["id"])
        assert row["Name"] == name and row["Status"] == "available" and row["Size"] == 1
        shown = cli("volume", "show", name, "-f", "json")  # by name: 404 by id, then ?name=
        assert shown["id"] == created["id"] and shown["properties"] == {"purpose": "test"}

        cli("volume", "set", "--size", "2", "--name", name + "b", "--description", "grown", "--property", "k=v", name)
        shown = cli("volume", "show", created["id"], "-f", "json")
        assert (shown["size"], shown["name"], shown["description"]) == (2, name + "b", "grown")
        assert shown["properties"] == {"purpose": "test", "k": "v"}
        cli("volume", "unset", "--property", "purpose", created["id"])
        assert cli("volume", "show", created["id"], "-f", "json")["properties"] == {"k": "v"}

        shrink = cli("volume", "set", "--size", "1", created["id"], check=False)
        assert shrink.returncode != 0 and "greater than" in shrink.stderr + shrink.stdout

        limits = {r["Name"]: r["Value"] for r in cli("limits", "show", "--absolute", "-f", "json")}
        assert limits["total_volumes_used"] >= 1 and limits["total_gigabytes_used"] >= 2  # the SDK renames Cinder keys

        theirs = cli("volume", "show", created["id"], user="alt1", check=False)
        assert theirs.returncode != 0 and "No Volume found" in theirs.stderr
        types = cli("volume", "type", "list", "-f", "json")
        assert "__DEFAULT__" in {t["Name"] for t in types}
    finally:
        cli("volume", "delete", created["id"])
    gone = cli("volume", "show", created["id"], check=False)
    assert gone.returncode != 0


def test_admin_types_and_reset_state(cli, core_loop):
    admin = core_loop.facts["admin"]["username"]
    tname = f"plain{os.getpid()}"
    vtype = cli("volume", "type", "create", "--property", "disk_template=sharedfile", tname, "-f", "json", user=admin)
    assert vtype["properties"] == {"disk_template": "sharedfile"}
    volume = cli("volume", "create", "--size", "1", "--type", tname, f"r{os.getpid()}", "-f", "json")
    try:
        assert volume["type"] == tname
        cli("volume", "set", "--state", "error", volume["id"], user=admin)
        assert cli("volume", "show", volume["id"], "-f", "json")["status"] == "error"
        refused = cli("volume", "set", "--state", "available", volume["id"], check=False)  # a member may not
        assert refused.returncode != 0
        busy = cli("volume", "type", "delete", tname, user=admin, check=False)
        assert busy.returncode != 0
    finally:
        cli("volume", "delete", volume["id"])
        cli("volume", "type", "delete", tname, user=admin)
