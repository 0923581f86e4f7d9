"""The unmodified ``openstack volume ...`` CLI end to end against the running stack (tests/fixtures_loop.py).

Every command is the real CLI (openstacksdk under it) in a subprocess, talking to the API
under gunicorn on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
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


def gnt_disk_names(instance: str) -> list[str]:
    """The disk names ``gnt-instance info`` shows for ``instance``, in disk order."""
    out = subprocess.run(["gnt-ns", "gnt-instance", "info", instance], capture_output=True, text=True, timeout=60, check=True)
    blocks = re.split(r"^\s+- disk/\d+:", out.stdout.split("Disks:", 1)[1], flags=re.MULTILINE)[1:]
    return [m.group(1) for b in blocks if (m := re.search(r"^\s+name: (\S+)$", b, re.MULTILINE))]


def wait_volume(cli, volume_id: str, status: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        shown = cli("volume", "show", volume_id, "-f", "json")
        if shown["status"] == status:
            return shown
        assert shown["status"] != "error" or status == "error", f"volume went to error: {shown}"
        assert time.monotonic() < deadline, f"volume {volume_id} not {status} after {timeout}s: {shown['status']}"
        time.sleep(1)


def test_server_add_and_remove_volume_map_to_ganeti_disks(cli, core_loop):
    prefix = core_loop.facts["prefix"]
    name = f"vs{os.getpid()}"
    server = cli("server", "create", "--image", "cirros-noop", "--flavor", "m1.tiny", "--network", "private", "--wait",
                 name, "-f", "json")  # fmt: skip
    instance = f"{prefix}-{server['id']}"
    volume = cli("volume", "create", "--size", "1", f"{name}-v", "-f", "json")
    vol_disk = f"{prefix}-vol-{volume['id']}"
    try:
        assert gnt_disk_names(instance) == ["None"]  # the flavor's disk, unnamed
        cli("server", "add", "volume", server["id"], volume["id"])
        shown = wait_volume(cli, volume["id"], "in-use")
        assert shown["attachments"][0]["server_id"] == server["id"]
        assert gnt_disk_names(instance) == ["None", vol_disk]

        # attach an in-use volume, delete an attached one: refused, nothing changed
        again = cli("server", "add", "volume", server["id"], volume["id"], check=False)
        assert again.returncode != 0
        busy = cli("volume", "delete", volume["id"], check=False)
        assert busy.returncode != 0 and cli("volume", "show", volume["id"], "-f", "json")["status"] == "in-use"
        # a running server keeps its disks without hotplug: a clear 409, stop it first
        running = cli("server", "remove", "volume", server["id"], volume["id"], check=False)
        assert running.returncode != 0 and "stop the server" in running.stderr
        assert gnt_disk_names(instance) == ["None", vol_disk]

        cli("server", "stop", server["id"])
        deadline = time.monotonic() + 120
        while cli("server", "show", server["id"], "-f", "json")["status"] != "SHUTOFF":
            assert time.monotonic() < deadline
            time.sleep(1)
        cli("server", "remove", "volume", server["id"], volume["id"])
        shown = wait_volume(cli, volume["id"], "available")
        assert shown["attachments"] == [] and gnt_disk_names(instance) == ["None"]
        missing = cli("server", "remove", "volume", server["id"], volume["id"], check=False)  # not attached
        assert missing.returncode != 0

        # the detached disk lives on in Ganeti: attaching again picks it up by name
        cli("server", "add", "volume", server["id"], volume["id"])
        wait_volume(cli, volume["id"], "in-use")
        assert gnt_disk_names(instance) == ["None", vol_disk]
        cli("server", "remove", "volume", server["id"], volume["id"])
        wait_volume(cli, volume["id"], "available")

        # deleting a server detaches its volumes first (shutdown, detach, remove: one job chain)
        cli("server", "add", "volume", server["id"], volume["id"])
        wait_volume(cli, volume["id"], "in-use")
        cli("server", "delete", "--wait", server["id"])
        shown = wait_volume(cli, volume["id"], "available")
        assert shown["attachments"] == []
        # its held disk is now removed through another stopped server of the project
        refused = cli("volume", "delete", volume["id"], check=False)
        assert refused.returncode != 0 and "stopped server" in refused.stderr
        holder = cli("server", "create", "--image", "cirros-noop", "--flavor", "m1.tiny", "--network", "private",
                     "--wait", f"{name}-h", "-f", "json")  # fmt: skip
        cli("server", "stop", holder["id"])
        deadline = time.monotonic() + 120
        while cli("server", "show", holder["id"], "-f", "json")["status"] != "SHUTOFF":
            assert time.monotonic() < deadline
            time.sleep(1)
        instance = f"{prefix}-{holder['id']}"
        server = holder
    finally:
        cli("volume", "delete", volume["id"], check=False)  # removes the held disk through the stopped server
        deadline = time.monotonic() + 180
        while cli("volume", "show", volume["id"], check=False).returncode == 0:
            assert time.monotonic() < deadline, "volume not deleted"
            time.sleep(1)
        assert gnt_disk_names(instance) == ["None"]
        cli("server", "delete", "--wait", server["id"], check=False)
