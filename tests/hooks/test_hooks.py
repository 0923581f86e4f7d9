"""The Ganeti post hooks: messages from the real hook environments, never failing, install/uninstall."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from eventd.spool import Spool
from ganeti_hooks import hook, install, report

HOOK_ENVS = Path(__file__).resolve().parent.parent / "fixtures" / "ganeti-samples" / "hook-env"


def sample_env(name: str) -> dict[str, str]:
    env = {}
    for line in (HOOK_ENVS / f"{name}.env").read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    return env


def test_instance_add_post_reports_the_nic_ganeti_chose():
    key, body = report.build(sample_env("instance-add-post"), now_ns=1_795_211_733_000_001_000, unique="u1")
    assert key == "ganeti.cluster.ganeti.test.hook"
    assert body == {
        "type": "ganeti-hook",
        "id": "cluster.ganeti.test:hook:instance-add:snf-1:u1",
        "cluster": "cluster.ganeti.test",
        "hook": "instance-add",
        "phase": "post",
        "operation": "OP_INSTANCE_CREATE",
        "status": "success",
        "instance": "snf-1",
        "network": None,
        "event_time": [1795211733, 1],
        "nics": [
            {
                "index": 0,
                "mac": "aa:00:01:ff:55:a7",
                "ip": "10.0.1.2",
                "network": "snf-net-1",
                "network_uuid": "5943b38c-4303-46a4-9ea5-8089d25b1228",
                "mode": "bridged",
                "link": "br-gnt",
                "vlan": None,
                "name": "nic-0",
                "uuid": "a7944ce8-a17e-479d-9c5f-b8acf1debefe",
            }
        ],
        "disks": [],
        "beparams": {"always_failover": False, "auto_balance": False, "maxmem": 512, "minmem": 512, "spindle_use": 1, "vcpus": 1},
        "instance_status": "up",
        "new_name": None,
        "network_info": None,
        "group": None,
        "master": "node1.ganeti.test",
    }


@pytest.mark.parametrize(
    ("name", "operation", "instance", "status", "ip"),
    [
        ("instance-stop-post", "OP_INSTANCE_SHUTDOWN", "snf-1", "down", "10.0.1.2"),  # POST_ value wins over the pre one
        ("instance-reboot-post", "OP_INSTANCE_REBOOT", "snf-1", "up", "10.0.1.2"),
        ("instance-remove-post", "OP_INSTANCE_REMOVE", "final-smoke", "up", None),
    ],
)
def test_other_hook_environments(name, operation, instance, status, ip):
    _, body = report.build(sample_env(name))
    assert (body["operation"], body["instance"], body["instance_status"]) == (operation, instance, status)
    assert body["nics"][0]["ip"] == ip and body["nics"][0]["mac"]
    assert body["id"].startswith(f"cluster.ganeti.test:hook:{body['hook']}:{instance}:")


def test_network_hook_environment():
    env = {
        "GANETI_HOOKS_PATH": "network-connect",
        "GANETI_HOOKS_PHASE": "post",
        "GANETI_CLUSTER": "c",
        "GANETI_OP_CODE": "OP_NETWORK_CONNECT",
        "GANETI_OBJECT_TYPE": "NETWORK",
        "GANETI_NETWORK_NAME": "snf-net-3",
        "GANETI_NETWORK_SUBNET": "10.0.3.0/24",
        "GANETI_NETWORK_GATEWAY": "10.0.3.1",
        "GANETI_NETWORK_TAGS": "a b",
        "GANETI_GROUP_NAME": "default",
        "GANETI_GROUP_NETWORK_MODE": "bridged",
        "GANETI_GROUP_NETWORK_LINK": "br-gnt",
    }
    _, body = report.build(env)
    assert (body["network"], body["instance"]) == ("snf-net-3", None)
    assert body["network_info"] == {"subnet": "10.0.3.0/24", "gateway": "10.0.3.1", "tags": ["a", "b"]}
    assert body["group"] == {"name": "default", "mode": "bridged", "link": "br-gnt", "vlan": None}


def test_not_a_hook_environment_is_refused():
    with pytest.raises(report.HookEnvError):
        report.build({"PATH": "/bin"})


def test_hook_spools_on_the_master_only(tmp_path):
    env = sample_env("instance-add-post")
    assert hook.run(str(tmp_path), env, hostname="node2.ganeti.test") is None
    assert hook.run(str(tmp_path), sample_env("instance-add-pre"), hostname="node1.ganeti.test") is None  # pre phase
    path = hook.run(str(tmp_path), env, hostname="node1.ganeti.test")
    (item,) = list(Spool(str(tmp_path)))
    assert item.path == path and item.routing_key == "ganeti.cluster.ganeti.test.hook"
    assert item.body["nics"][0]["ip"] == "10.0.1.2" and item.message_id == item.body["id"]


def test_hook_prefix_filter(tmp_path):
    assert hook.run(str(tmp_path), sample_env("instance-add-post"), hostname="node1", prefixes=["t1x-"]) is None
    assert hook.run(str(tmp_path), sample_env("instance-add-post"), hostname="node1", prefixes=["snf-"]) is not None


def test_hook_never_fails(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    env = {**sample_env("instance-add-post"), "GANETI_MASTER": os.uname().nodename}
    assert hook.main(str(blocked / "spool"), env) == 0
    assert "could not report" in capsys.readouterr().err
    assert hook.main(str(tmp_path / "spool"), {"PATH": "/bin"}) == 0  # not run by Ganeti


def test_install_run_and_uninstall(tmp_path):
    hooks_dir = tmp_path / "hooks"
    spool_dir = tmp_path / "spool"
    foreign = hooks_dir / "instance-add-post.d" / "10-operator"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("#!/bin/sh\nexit 0\n")

    written = install.install(str(hooks_dir), str(spool_dir))
    assert len(written) == len(report.HOOK_PATHS)
    for path in written:
        assert install.NAME_RE.match(os.path.basename(path))
        assert os.stat(path).st_mode & stat.S_IXUSR
    script = hooks_dir / "instance-add-post.d" / install.DEFAULT_NAME

    # Ganeti runs it with the hook environment (and a minimal PATH): it spools the report, exit 0.
    env = sample_env("instance-add-post")
    env["GANETI_MASTER"] = os.uname().nodename
    started = time.monotonic()
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    (item,) = list(Spool(str(spool_dir)))
    assert item.body["instance"] == "snf-1" and item.body["nics"][0]["mac"] == "aa:00:01:ff:55:a7"
    assert elapsed < 5

    # A broken spool still exits 0
    os.chmod(spool_dir, 0o500)
    try:
        if os.geteuid() != 0:
            done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=30)
            assert done.returncode == 0 and "could not report" in done.stderr
    finally:
        os.chmod(spool_dir, 0o750)

    with pytest.raises(install.InstallError):
        install.install(str(hooks_dir), str(spool_dir), name="10-operator", hook_paths=["instance-add"])
    with pytest.raises(install.InstallError):
        install.install(str(hooks_dir), str(spool_dir), name="bad.name")

    removed = install.uninstall(str(hooks_dir))
    assert sorted(removed) == sorted(written)
    assert foreign.exists()  # not ours: untouched


def test_install_console_script(tmp_path):
    exe = Path(os.environ.get("VIRTUAL_ENV", ".venv")) / "bin" / "cyclades-ganeti-hooks-install"
    if not exe.exists():
        exe = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "cyclades-ganeti-hooks-install"
    done = subprocess.run(
        [str(exe), "--hooks-dir", str(tmp_path / "h"), "--spool-dir", str(tmp_path / "s"), "--hook", "instance-add"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "h" / "instance-add-post.d" / "50-cyclades").exists()
    done = subprocess.run(
        [str(exe), "--hooks-dir", str(tmp_path / "h"), "--name", "a.b", "--spool-dir", "x"], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "error:" in done.stderr
