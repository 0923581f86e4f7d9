"""Suspension end to end: the whole loop (gunicorn, eventd on the real Ganeti sandbox, dispatcher, RabbitMQ).

An admin suspends a running server: a real Ganeti shutdown job stops it and its events
reach the database; the owner's start is then a 409 that says why; after unsuspend the
owner starts it again. A migrate request becomes a Ganeti job whose events reach the server
row. The state history the events wrote feeds the usage records.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]


def test_suspend_stops_the_vm_and_blocks_the_owners_start(core_loop, loop_client, rapi):
    demo, admin = loop_client("demo1"), loop_client("cloud-admin")
    prefix = core_loop.env["CYCLADES_GANETI_PREFIX"]
    network = demo.get("/network/v2.0/networks", params={"name": "private"}).json()["networks"][0]
    created = demo.post(
        "/compute/v2.1/servers",
        {
            "server": {
                "name": f"suspend{os.getpid()}",
                "flavorRef": "1",
                "imageRef": core_loop.facts["images"][0],
                "networks": [{"uuid": network["id"]}],
            }
        },
    )
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    try:
        demo.wait_status(server_id, "ACTIVE", timeout=300)
        assert demo.get(f"/admin/v1/servers/{server_id}").status_code == 403  # a member is no admin

        suspended = admin.post(f"/admin/v1/servers/{server_id}/suspend", {"reason": "spam from this VM"})
        assert suspended.status_code == 202, suspended.text
        assert suspended.json()["stop_submitted"] is True and suspended.json()["suspended"] is True
        demo.wait_status(server_id, "SHUTOFF")
        assert rapi.get_instance(f"{prefix}-{server_id}")["oper_state"] is False
        row = admin.get(f"/admin/v1/servers/{server_id}").json()
        assert row["backend_opcode"] == "OP_INSTANCE_SHUTDOWN" and row["backend_jobstatus"] == "success"

        refused = demo.post(f"/compute/v2.1/servers/{server_id}/action", {"os-start": None})
        assert refused.status_code == 409
        message = refused.json()["conflictingRequest"]["message"]
        assert "suspended by the cloud administrators" in message and "spam from this VM" in message
        hard = demo.post(f"/compute/v2.1/servers/{server_id}/action", {"reboot": {"type": "HARD"}})
        assert hard.status_code == 409
        assert demo.wait_status(server_id, "SHUTOFF")  # the refusals changed nothing

        listed = admin.get("/admin/v1/servers", params={"suspended": "true"}).json()["results"]
        assert [r["id"] for r in listed] == [int(server_id)]
        assert admin.post(f"/admin/v1/servers/{server_id}/unsuspend").json()["suspended"] is False
        started = demo.post(f"/compute/v2.1/servers/{server_id}/action", {"os-start": None})
        assert started.status_code == 202, started.text
        demo.wait_status(server_id, "ACTIVE")

        # a migrate request is a Ganeti job whose events reach the server row (one node: Ganeti refuses it)
        moved = admin.post(f"/admin/v1/servers/{server_id}/migrate", {"live": True})
        assert moved.status_code == 202, moved.text
        job_id = moved.json()["job_id"]

        def migrate_reported(resp) -> bool:
            row = admin.get(f"/admin/v1/servers/{server_id}").json()
            return row["backend_job_id"] == job_id and row["backend_jobstatus"] in ("success", "error")

        demo.wait_for(server_id, migrate_reported, "migrate job reported", timeout=120)
        row = admin.get(f"/admin/v1/servers/{server_id}").json()
        assert row["backend_opcode"] == "OP_INSTANCE_MIGRATE" and row["status"] == "ACTIVE"

        usage = admin.get("/admin/v1/usage").json()["projects"]
        mine = [s for p in usage for s in p["servers"] if s["server_id"] == int(server_id)]
        assert mine and mine[0]["running_hours"] > 0 and mine[0]["state"] == "STARTED"
    finally:
        demo.delete(f"/compute/v2.1/servers/{server_id}")
        demo.wait_for(server_id, lambda r: r.status_code == 404, "deleted", timeout=300)
