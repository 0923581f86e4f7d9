"""tempest's noVNC console tests against a whole stack whose servers are real KVM guests.

``tempest.api.compute.servers.test_novnc`` (unmodified tempest 47.0.0, ``vnc_console``
enabled) on its own stack (own database, vhost, Ganeti prefix and console proxy) whose
backend creates servers with the kvm hypervisor (``provision setup --hypervisor kvm``; the
sandbox needs ``conf/ganeti-sandbox/enable-kvm.sh``). tempest boots one server (a QEMU/TCG
guest), fetches the noVNC page from the console URL, opens the WebSocket with the token
and negotiates RFB through the real ``cyclades-vncauthproxy`` with the guest's own VNC
server; a bad token must be refused. Zero failures, zero skips; the proxy's session log
must show the WebSocket session reached the guest on the KVM node. One guest at a time
(concurrency 1); tempest deletes it and the stack's cleanup removes anything left.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests import services
from tests.tempest import run_tempest
from tests.tempest import stack as stackmod

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1200)]

CONSOLE_REGEX = r"^tempest\.api\.compute\.servers\.test_novnc\."
KVM_ENV = "/run/ganeti-sandbox/kvm.env"


def kvm_vnc_host() -> str:
    """Where the sandbox's KVM guests' VNC servers listen (enable-kvm.sh writes it)."""
    try:
        with open(KVM_ENV) as env:
            facts = dict(line.strip().split("=", 1) for line in env if "=" in line)
    except OSError:
        facts = {}
    if not facts.get("GANETI_KVM_VNC_HOST"):
        services.missing("kvm on the Ganeti sandbox", f"no {KVM_ENV}: run conf/ganeti-sandbox/enable-kvm.sh")
    return facts["GANETI_KVM_VNC_HOST"]


def proxy_sessions(stack) -> list[dict]:
    """The ``vnc-session`` lines of the stack's console proxy (JSON log)."""
    sessions = []
    for line in stack.log("vncauthproxy").read_text().splitlines():
        if line.startswith("{") and (entry := json.loads(line)).get("event") == "vnc-session":
            sessions.append(entry)
    return sessions


def test_tempest_novnc_on_a_kvm_guest(capsys, tmp_path):
    if found := stackmod.problems():
        services.missing("the whole stack", "; ".join(found))
    vnc_host = kvm_vnc_host()
    workspace = run_tempest.WORKSPACE.parent / "workspace-console"
    with stackmod.running_stack(extra_env={"CYCLADES_LOG_FORMAT": "json"}, provision_args=("--hypervisor", "kvm")) as stack:
        assert stack.facts["hypervisor"] == "kvm"
        facts = tmp_path / "stack.json"
        facts.write_text(json.dumps({"facts": stack.facts}))
        args = ["--regex", CONSOLE_REGEX, "--enable-feature", "vnc_console", "--url", stack.url, "--facts", str(facts)]
        code = run_tempest.main([*args, "--workspace", str(workspace), "--build-timeout", "300"])
        summary = json.loads((workspace / "summary.json").read_text())
        sessions = proxy_sessions(stack)
    with capsys.disabled():
        print("\n" + run_tempest.report(summary))
        for entry in sessions:
            print(f"  proxy session: { ({k: entry.get(k) for k in ('via', 'guest', 'rfb_version', 'outcome', 'duration')}) }")
    assert summary["failed"] == 0, summary["failures"]
    assert code == 0
    assert summary["passed"] == 2 and summary["skipped"] == 0, summary

    # test_novnc's session went through the proxy to the KVM guest's VNC server; the bad token never got a guest
    def on_kvm_node(guest: str) -> bool:
        return bool(guest) and socket.gethostbyname(guest.rsplit(":", 1)[0]) == vnc_host

    reached = [s for s in sessions if s["via"] == "websocket" and on_kvm_node(s["guest"])]
    assert reached and reached[0]["bytes_to_client"] > 24, sessions
    refused = [s for s in sessions if s["outcome"] == "unknown or used token"]
    assert refused and not refused[0]["guest"], sessions
