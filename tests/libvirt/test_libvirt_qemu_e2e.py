"""A REAL QEMU (TCG) guest under this machine's real libvirtd, through the whole stack.

The stack (:mod:`tests.tempest.stack`: gunicorn API, dispatcher, vncauthproxy, PostgreSQL,
RabbitMQ) runs with ``cyclades-manage libvirt-events`` beside it and ``qemu:///system`` as its
only undrained backend (:mod:`tests.libvirt.provision_libvirt`). The guest is the test kernel +
busybox initramfs booted directly (an operator template ``flavor-lv.qemu.xml``); its root disk
is an RBD clone on the Ceph sandbox that QEMU opens through librbd, and a NoCloud config drive
(also on RBD) is its cdrom.

* create: the server reaches ACTIVE through the events (the driver's job message and the
  host's lifecycle events, applied by the real dispatcher), QEMU has the clone open;
* rebuild (ACPI shutdown of the guest, the clone made again, started again);
* an operator's ``virsh destroy`` shows as SHUTOFF in the API, measured;
* the console through the stack's vncauthproxy shows the guest's banner (vncdotool);
* the unmodified ``openstack`` CLI creates, stops, starts and deletes a server there.

Needs ``conf/libvirt-host/setup.sh`` (scripts/test.sh runs it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import services
from tests.console.conftest import vncdo
from tests.console.test_kvm_e2e import GREEN, banner_rows, wait_for_banner
from tests.console.test_proxy import png_pixels
from tests.fixtures_loop import LoopClient

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.ceph, pytest.mark.slow]

URI = "qemu:///system"
GUEST_DIR = Path(os.environ.get("CYCLADES_TEST_GUEST_DIR", "/var/lib/ganeti-sandbox/guest"))
BIN = Path(sys.executable).parent
OPENSTACK = str(BIN / "openstack")
TEMPLATE = """<domain type="${domain_type}">
  <name>${name}</name>
  <metadata>
    <cyclades:server xmlns:cyclades="https://cyclades.example/libvirt/1" id="${server_id}" flavor="${flavor}"/>
  </metadata>
  <memory unit="MiB">${memory_mib}</memory>
  <vcpu>${vcpus}</vcpu>
  <os>
    <type arch="x86_64">hvm</type>
    <kernel>GUEST/vmlinuz</kernel>
    <initrd>GUEST/initrd.gz</initrd>
    <cmdline>console=tty0 console=ttyS0</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <graphics type="vnc" autoport="yes" listen="127.0.0.1"/>
    <serial type="pty"/>
    <console type="pty"/>
  </devices>
</domain>
"""


def virsh(*args: str, check: bool = True) -> str:
    proc = subprocess.run(["virsh", "-c", URI, *args], capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"virsh {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def rbd_info(image: str) -> dict:
    args = ["rbd", "-c", services.CEPH_CONF, "--id", services.CEPH_USER, "info", "--format", "json"]
    return json.loads(subprocess.run([*args, f"{services.CEPH_POOL}/{image}"], capture_output=True, text=True, check=True).stdout)


def libvirt_problem() -> str | None:
    try:
        subprocess.run(["virsh", "-c", URI, "version"], capture_output=True, check=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"libvirtd on {URI} does not answer ({exc}); run: conf/libvirt-host/setup.sh"
    if not (GUEST_DIR / "vmlinuz").is_file() or not (GUEST_DIR / "initrd.gz").is_file():
        return f"no test guest in {GUEST_DIR}; run: conf/libvirt-host/setup.sh"
    return None


@pytest.fixture(scope="module")
def lv_stack(tmp_path_factory):
    """The stack with the libvirt host as its backend and libvirt-events running; facts of the provisioning."""
    from tests.tempest import stack as stackmod

    if problem := libvirt_problem():
        services.missing("libvirtd", problem)
    templates = tmp_path_factory.mktemp("templates")
    (templates / "flavor-lv.qemu.xml").write_text(TEMPLATE.replace("GUEST", str(GUEST_DIR)))
    extra = {
        "CYCLADES_IMAGE_RBD_CONF": services.CEPH_CONF,
        "CYCLADES_IMAGE_RBD_USER": services.CEPH_USER,
        "CYCLADES_IMAGE_RBD_POOL": services.CEPH_POOL,
        "CYCLADES_LIBVIRT_TEMPLATE_DIR": str(templates),
        "CYCLADES_LIBVIRT_DOMAIN_TYPE": "qemu",
        "CYCLADES_GANETI_SHUTDOWN_TIMEOUT": "10",
    }
    with stackmod.running_stack(extra_env=extra) as stack:
        module = [sys.executable, "-m", "tests.libvirt.provision_libvirt"]
        try:
            facts = json.loads(stackmod._run(stack, "provision-libvirt", [*module, "setup", URI]))
            stackmod._spawn(stack, "libvirt-events", [str(BIN / "cyclades-manage"), "libvirt-events"])
            deadline = time.monotonic() + 30
            while "listening to" not in stack.log("libvirt-events").read_text():
                stackmod._check_alive(stack)
                assert time.monotonic() < deadline, "libvirt-events did not start"
                time.sleep(0.2)
            yield stack, facts
        finally:
            stackmod._run(stack, "cleanup-libvirt", [*module, "cleanup", URI])


@pytest.fixture(scope="module")
def client(lv_stack):
    stack, _ = lv_stack
    return LoopClient(stack, "demo1", "demo1")


def test_real_guest_from_an_rbd_clone_active_destroy_and_console(lv_stack, client, tmp_path):
    stack, facts = lv_stack
    client.http.headers["X-OpenStack-Nova-API-Version"] = "2.37"
    body = {"server": {"name": "qemu1", "flavorRef": facts["flavor"], "imageRef": facts["image"], "networks": "none"}}
    started = time.monotonic()
    resp = client.post("/compute/v2.1/servers", body)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    client.wait_status(server_id, "ACTIVE", timeout=120)
    active_after = time.monotonic() - started
    name = f"{stack.facts['prefix']}-{server_id}"
    assert virsh("domstate", name).strip() == "running"

    # QEMU has the RBD clone and the config drive open through librbd (it answers their sizes)
    blk = virsh("domblklist", name, "--details")
    assert f"{services.CEPH_POOL}/{name}-disk0" in blk and f"{services.CEPH_POOL}/{name}-config" in blk
    assert "Capacity:       1073741824" in virsh("domblkinfo", name, "vda")
    xml = virsh("dumpxml", name)
    assert "protocol='rbd'" in xml and "<secret type='ceph' usage='cyclades client." in xml
    assert "GUEST" not in xml and f"<kernel>{GUEST_DIR}/vmlinuz</kernel>" in xml  # the operator's template

    # the console: once the guest shows its banner (straight from QEMU's VNC), the same picture
    # through the stack's proxy (a one-shot forwarding with its own password)
    display = virsh("vncdisplay", name).strip()  # "127.0.0.1:N" -> port 5900 + N
    direct_port = 5900 + int(display.rsplit(":", 1)[1])
    direct = wait_for_banner(direct_port, None, tmp_path / "direct.png", timeout=90)
    console = client.post(f"/compute/v2.0/servers/{server_id}/action", {"console": {"type": "vnc"}})
    assert console.status_code == 200, console.text
    info = console.json()["console"]
    assert info["port"] != direct_port and info["password"]
    proxied = vncdo(info["port"], info["password"], tmp_path / "proxied.png")
    assert proxied.returncode == 0, proxied.stderr
    width, height, pixels = png_pixels(tmp_path / "proxied.png")
    assert banner_rows(width, height, pixels) == banner_rows(*direct) and pixels.count(GREEN) > 500

    # rebuild: ACPI shutdown of the real guest, the clone made again once QEMU let go of it, started again
    clone_id = rbd_info(f"{name}-disk0")["id"]
    t_rebuild = time.monotonic()
    resp = client.post(f"/compute/v2.1/servers/{server_id}/action", {"rebuild": {"imageRef": facts["image"]}})
    assert resp.status_code == 202, resp.text
    client.wait_status(server_id, "ACTIVE", timeout=120)
    rebuild_after = time.monotonic() - t_rebuild
    assert rbd_info(f"{name}-disk0")["id"] != clone_id  # a new clone
    actions = client.get(f"/compute/v2.1/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions][:1] == ["rebuild"]
    assert virsh("domstate", name).strip() == "running"
    assert "Capacity:       1073741824" in virsh("domblkinfo", name, "vda")

    # an operator's virsh destroy: SHUTOFF in the API, measured from the command's return
    virsh("destroy", name)
    t0 = time.monotonic()
    while True:
        status = client.server(server_id).json()["server"]["status"]
        if status == "SHUTOFF":
            break
        assert time.monotonic() - t0 < 5, f"still {status} 5 s after virsh destroy"
        time.sleep(0.02)
    shutoff_after = time.monotonic() - t0
    print(
        f"\nlibvirt qemu guest: ACTIVE {active_after:.2f}s after POST; rebuilt and ACTIVE in {rebuild_after:.2f}s; "
        f"SHUTOFF {shutoff_after:.3f}s after virsh destroy"
    )
    assert shutoff_after < 1.0, f"SHUTOFF {shutoff_after:.3f}s after virsh destroy"

    # delete: the domain and both RBD images go away
    assert client.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
    client.wait_for(server_id, lambda r: r.status_code == 404, "deleted", timeout=60)
    assert name not in virsh("list", "--all", "--name")
    rbd_ls = subprocess.run(
        ["rbd", "-c", services.CEPH_CONF, "--id", services.CEPH_USER, "ls", services.CEPH_POOL],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert f"{name}-disk0" not in rbd_ls and f"{name}-config" not in rbd_ls


def test_openstack_cli_create_stop_start_delete(lv_stack):
    stack, facts = lv_stack
    env = {"PATH": os.environ["PATH"], "HOME": str(stack.workdir), **stack.os_env("demo1", "demo1")}

    def cli(*args: str):
        proc = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"openstack {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return json.loads(proc.stdout) if "json" in args else proc

    name = f"lvcli{os.getpid()}"
    server = cli("server", "create", "--image", facts["image"], "--flavor", "lv.qemu", "--nic", "none", "--wait",
                 name, "-f", "json")  # fmt: skip
    assert server["status"] == "ACTIVE"
    domain = f"{stack.facts['prefix']}-{server['id']}"
    assert virsh("domstate", domain).strip() == "running"
    cli("server", "stop", server["id"])
    wait_cli_status(cli, server["id"], "SHUTOFF")
    assert virsh("domstate", domain).strip() == "shut off"
    cli("server", "start", server["id"])
    wait_cli_status(cli, server["id"], "ACTIVE")
    assert virsh("domstate", domain).strip() == "running"
    cli("server", "delete", "--wait", server["id"])
    assert domain not in virsh("list", "--all", "--name")
    assert name not in [s["Name"] for s in cli("server", "list", "-f", "json")]


def wait_cli_status(cli, server_id: str, status: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while (shown := cli("server", "show", server_id, "-f", "json"))["status"] != status or shown.get("OS-EXT-STS:task_state"):
        assert time.monotonic() < deadline, f"server {server_id} not {status}: {shown['status']}"
        time.sleep(0.5)
