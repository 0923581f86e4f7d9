"""The console APIs against a real vncauthproxy and a test VNC server standing in for the guest.

Nova remote-consoles (2.6+) and os-getVNCConsole (before 2.6) hand out the noVNC page
URL with a one-time token; the Synnefo console action hands out host, port and
password, which the real vncdotool uses. Only ACTIVE servers the caller can see.
"""

from __future__ import annotations

import urllib.parse

import pytest

from logic.enums import OperState, Role, ServerTask
from tests.console.conftest import vncdo
from tests.console.test_proxy import ws_connect, ws_recv
from tests.factories import BackendFactory, ServerFactory, token_client

NOVA_26 = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.6"}
NOVA_21 = {"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"}


@pytest.fixture
def member(db):
    return token_client(Role.MEMBER)


@pytest.fixture
def server(member, proxy, monkeypatch):
    """An ACTIVE server of ``member``'s project whose console is the proxy's test VNC server."""
    from logic import ganeti_jobs

    srv = ServerFactory(user=member.user_obj, project=member.project, backend=BackendFactory(), operstate=OperState.STARTED)
    monkeypatch.setattr(
        ganeti_jobs,
        "console_info",
        lambda s: {"instance": s.ganeti_name, "kind": "vnc", "host": "127.0.0.1", "port": proxy.guest.port},
    )
    return srv


def remote_console(client, server, spec=None, headers=NOVA_26):
    body = {"remote_console": spec or {"protocol": "vnc", "type": "novnc"}}
    return client.post(f"/compute/v2.1/servers/{server.pk}/remote-consoles", body, format="json", **headers)


def token_of(url: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]


@pytest.fixture
def guest_password(proxy_settings, tmp_path, settings):
    path = tmp_path / "vnc-password"
    path.write_text("gpw\n")
    settings.CYCLADES = {**settings.CYCLADES, "CONSOLE_GUEST_PASSWORD_FILE": str(path)}


def test_remote_console_url_opens_a_websocket_console(member, server, proxy, guest_password):
    resp = remote_console(member, server)
    assert resp.status_code == 200, resp.content
    body = resp.json()["remote_console"]
    assert body["protocol"] == "vnc" and body["type"] == "novnc"
    assert body["url"].startswith(f"http://127.0.0.1:{proxy.web_port}/vnc.html?token=")
    sock, response = ws_connect(proxy.web_port, cookie=f"token={token_of(body['url'])}")
    with sock:
        assert response.startswith(b"HTTP/1.1 101") and ws_recv(sock) == b"RFB 003.008\n"


def test_legacy_os_get_vnc_console_before_2_6(member, server, proxy, guest_password):
    url = f"/compute/v2.1/servers/{server.pk}/action"
    resp = member.post(url, {"os-getVNCConsole": {"type": "novnc"}}, format="json", **NOVA_21)
    assert resp.status_code == 200, resp.content
    assert resp.json()["console"]["type"] == "novnc" and "token=" in resp.json()["console"]["url"]
    assert member.post(url, {"os-getVNCConsole": {"type": "xvpvnc"}}, format="json", **NOVA_21).status_code == 400
    assert member.post(url, {"os-getVNCConsole": {"type": "novnc"}}, format="json", **NOVA_26).status_code == 404


def test_synnefo_console_gives_host_port_password_for_vncdo(member, server, proxy, guest_password, tmp_path):
    resp = member.post(f"/compute/v2.0/servers/{server.pk}/action", {"console": {"type": "vnc"}}, format="json")
    assert resp.status_code == 200, resp.content
    console = resp.json()["console"]
    assert set(console) == {"type", "host", "port", "password"} and console["host"] == "127.0.0.1"
    result = vncdo(console["port"], console["password"], tmp_path / "s.png")
    assert result.returncode == 0, result.stderr
    # the password was one-shot
    assert vncdo(console["port"], console["password"], tmp_path / "t.png", timeout=15).returncode != 0


def test_consoles_only_for_active_servers_the_caller_sees(member, server, proxy_settings):
    other = token_client(Role.MEMBER)
    assert remote_console(other, server).status_code == 404
    assert remote_console(member, server, {"protocol": "vnc", "type": "xvpvnc"}).status_code == 400
    assert remote_console(member, server, {"protocol": "spice", "type": "spice-html5"}).status_code == 400
    assert remote_console(member, server, headers=NOVA_21).status_code == 404
    type(server).objects.filter(pk=server.pk).update(operstate=OperState.STOPPED)
    resp = remote_console(member, server)
    assert resp.status_code == 409 and "SHUTOFF" in resp.json()["conflictingRequest"]["message"]
    type(server).objects.filter(pk=server.pk).update(operstate=OperState.STARTED, task=ServerTask.REBOOT_SOFT)
    assert remote_console(member, server).status_code == 409
    resp = member.post(f"/compute/v2.0/servers/{server.pk}/action", {"console": {"type": "vnc"}}, format="json")
    assert resp.status_code == 409


def test_no_proxy_is_a_503(member, server, proxy_settings, settings):
    settings.CYCLADES = {**settings.CYCLADES, "VNCAUTHPROXY_CONTROL_PORT": 1}
    resp = remote_console(member, server)
    assert resp.status_code == 503 and "unavailable" in resp.json()["serviceUnavailable"]["message"]
    settings.CYCLADES = {**settings.CYCLADES, "VNCAUTHPROXY_SECRET": None, "VNCAUTHPROXY_SECRET_FILE": ""}
    assert remote_console(member, server).status_code == 503
