"""Actions that closely follow one another, through the REAL core loop on the REAL Ganeti sandbox.

tempest's ``test_rebuild_server_in_stop_state`` stops a server, waits for SHUTOFF and
rebuilds it: the server must come back SHUTOFF (Nova keeps a stopped server stopped).
The stop was never lost: the rebuild's Ganeti job (shutdown, reinstall, startup) started
the instance again. Here every action is sent the moment the previous one has settled
(status reached, no task in flight), and each state the API shows is checked against
what Ganeti itself reports of the instance.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1500)]


def action(client, server_id: str, body: dict):
    resp = client.post(f"/compute/v2.1/servers/{server_id}/action", body)
    assert resp.status_code in (202, 204), (body, resp.status_code, resp.text)
    return resp


@pytest.fixture
def running_server(core_loop, loop_client):
    demo = loop_client("demo1")
    body = {"server": {"name": f"seq{os.getpid()}", "flavorRef": "1", "imageRef": core_loop.facts["images"][0]}}
    created = demo.post("/compute/v2.1/servers", body)
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    try:
        demo.wait_status(server_id, "ACTIVE", timeout=300)
        yield demo, server_id, f"{core_loop.env['CYCLADES_GANETI_PREFIX']}-{server_id}"
    finally:
        assert demo.delete(f"/compute/v2.1/servers/{server_id}").status_code == 204
        demo.wait_for(server_id, lambda r: r.status_code == 404, "deleted (404)")


def test_a_stopped_server_stays_stopped_through_a_rebuild(core_loop, running_server, rapi):
    demo, server_id, instance = running_server
    new_image = core_loop.facts["images"][1]
    action(demo, server_id, {"os-stop": None})
    demo.wait_status(server_id, "SHUTOFF")
    rebuilt = action(demo, server_id, {"rebuild": {"imageRef": new_image}}).json()["server"]
    assert rebuilt["status"] == "REBUILD" and rebuilt["image"]["id"] == new_image
    server = demo.wait_status(server_id, "SHUTOFF")
    assert server["image"]["id"] == new_image
    ganeti = rapi.get_instance(instance)
    assert ganeti["oper_state"] is False and ganeti["admin_state"] == "down"
    assert ganeti["os"] == "noop"
    # and it starts again afterwards
    action(demo, server_id, {"os-start": None})
    demo.wait_status(server_id, "ACTIVE")
    assert rapi.get_instance(instance)["oper_state"] is True


def test_each_action_right_after_the_previous_one_settles(core_loop, running_server, rapi):
    demo, server_id, instance = running_server
    images = core_loop.facts["images"]
    steps = [
        ({"rebuild": {"imageRef": images[1]}}, "ACTIVE", True),  # a running server comes back running
        ({"os-stop": None}, "SHUTOFF", False),
        ({"rebuild": {"imageRef": images[0]}}, "SHUTOFF", False),
        ({"reboot": {"type": "HARD"}}, "ACTIVE", True),  # Nova: a hard reboot starts a stopped server
        ({"os-stop": None}, "SHUTOFF", False),
        ({"os-start": None}, "ACTIVE", True),
        ({"reboot": {"type": "SOFT"}}, "ACTIVE", True),
        ({"os-stop": None}, "SHUTOFF", False),
    ]
    for body, status, up in steps:
        action(demo, server_id, body)
        demo.wait_status(server_id, status)
        assert rapi.get_instance(instance)["oper_state"] is up, (body, status)
    # while a task is in flight a second action is refused (409) and changes nothing
    action(demo, server_id, {"os-start": None})
    second = demo.post(f"/compute/v2.1/servers/{server_id}/action", {"os-stop": None})
    assert second.status_code == 409, second.text
    demo.wait_status(server_id, "ACTIVE")
    log = demo.get(f"/compute/v2.1/servers/{server_id}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in reversed(log)][1:] == [
        "rebuild",
        "stop",
        "rebuild",
        "reboot",
        "stop",
        "start",
        "reboot",
        "stop",
        "start",
    ]
    for entry in log:
        # events are for everyone from 2.51 (admins only before)
        detail = demo.get(
            f"/compute/v2.1/servers/{server_id}/os-instance-actions/{entry['request_id']}",
            headers={"X-OpenStack-Nova-API-Version": "2.51"},
        ).json()
        assert [e["result"] for e in detail["instanceAction"]["events"]] == ["Success"], detail
