"""A server's whole life through the REAL core loop on the REAL Ganeti sandbox.

API (gunicorn, PostgreSQL) → RAPI job → Ganeti → job file → cyclades-eventd → RabbitMQ →
cyclades-dispatcher → the database → the API's answers (``core_loop``, tests/fixtures_loop.py).
Nothing here touches the database or fakes an event: every state the test waits for is
one Ganeti reported. What Ganeti chose (the NIC's IP and MAC) and did (instance up/down,
memory, removal) is checked against the cluster itself through RAPI.
"""

from __future__ import annotations

import ipaddress
import os

import pytest

from logic.event_messages import request_ids_in

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(1500)]


def action(client, server_id: str, body: dict):
    resp = client.post(f"/compute/v2.1/servers/{server_id}/action", body)
    assert resp.status_code in (202, 204), (body, resp.status_code, resp.text)
    return resp


def test_server_lifecycle_through_eventd_and_the_dispatcher(core_loop, loop_client, rapi):
    demo = loop_client("demo1")
    prefix = core_loop.env["CYCLADES_GANETI_PREFIX"]
    private = demo.get("/network/v2.0/networks", params={"name": "private"}).json()["networks"]
    assert len(private) == 1
    network = private[0]

    created = demo.post(
        "/compute/v2.1/servers",
        {
            "server": {
                "name": f"e2e{os.getpid()}",
                "flavorRef": "1",
                "imageRef": core_loop.facts["images"][0],
                "networks": [{"uuid": network["id"]}],
                "metadata": {"purpose": "e2e"},
            }
        },
    )
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    instance_name = f"{prefix}-{server_id}"
    try:
        assert demo.server(server_id).json()["server"]["status"] == "BUILD"
        server = demo.wait_status(server_id, "ACTIVE", timeout=300)

        # the NIC as Ganeti chose it, named after the API's network
        instance = rapi.get_instance(instance_name)
        assert instance["oper_state"] is True
        ganeti_ip, ganeti_mac = instance["nic.ips"][0], instance["nic.macs"][0]
        ganeti_network = instance["nic.networks.names"][0]
        assert ganeti_network.startswith(f"{prefix}-")  # the Ganeti network behind "private"
        assert ipaddress.ip_address(ganeti_ip) in ipaddress.ip_network(rapi.get_network(ganeti_network)["network"])
        assert server["addresses"] == {
            "private": [{"version": 4, "addr": ganeti_ip, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": ganeti_mac}]
        }
        assert demo.get(f"/compute/v2.1/servers/{server_id}/ips/private").json() == {
            "private": [{"version": 4, "addr": ganeti_ip}]
        }
        (port,) = demo.get("/network/v2.0/ports", params={"device_id": server_id}).json()["ports"]
        assert port["network_id"] == network["id"] and port["mac_address"] == ganeti_mac
        assert [ip["ip_address"] for ip in port["fixed_ips"]] == [ganeti_ip]
        assert server["OS-SRV-USG:launched_at"] and server["metadata"] == {"purpose": "e2e"}

        # stop / start: Ganeti's instance goes down and up
        action(demo, server_id, {"os-stop": None})
        demo.wait_status(server_id, "SHUTOFF")
        assert rapi.get_instance(instance_name)["oper_state"] is False
        action(demo, server_id, {"os-start": None})
        demo.wait_status(server_id, "ACTIVE")
        assert rapi.get_instance(instance_name)["oper_state"] is True

        # hard reboot
        action(demo, server_id, {"reboot": {"type": "HARD"}})
        demo.wait_status(server_id, "ACTIVE")

        # resize: VERIFY_RESIZE once Ganeti's modify succeeded, the new memory in Ganeti; confirm
        resize_request = action(demo, server_id, {"resize": {"flavorRef": "2"}}).headers["X-Openstack-Request-Id"]
        resized = demo.wait_status(server_id, "VERIFY_RESIZE")
        assert resized["flavor"]["id"] == "2" and resized["OS-EXT-STS:vm_state"] == "resized"
        assert rapi.get_instance(instance_name)["beparams"]["maxmem"] == 256
        assert action(demo, server_id, {"confirmResize": None}).status_code == 204
        confirmed = demo.wait_status(server_id, "ACTIVE")
        assert confirmed["flavor"]["id"] == "2"

        # the action log: every action with its request id, finished by the job's end
        log = demo.get(f"/compute/v2.1/servers/{server_id}/os-instance-actions").json()["instanceActions"]
        assert [a["action"] for a in reversed(log)] == ["create", "stop", "start", "reboot", "resize", "confirmResize"]
        for entry in log:
            detail = demo.get(f"/compute/v2.1/servers/{server_id}/os-instance-actions/{entry['request_id']}").json()
            assert [e["result"] for e in detail["instanceAction"]["events"]] == ["Success"], detail
        # ... and each was a real Ganeti job of the expected opcode, which succeeded
        jobs = _action_jobs(core_loop, int(server_id))
        expected = {
            "create": "OP_INSTANCE_CREATE",
            "stop": "OP_INSTANCE_SHUTDOWN",
            "start": "OP_INSTANCE_STARTUP",
            "reboot": "OP_INSTANCE_REBOOT",
            "resize": "OP_INSTANCE_STARTUP",  # the last of modify → shutdown → startup
        }
        assert set(jobs) == set(expected)
        for name, opcode in expected.items():
            job = rapi.get_job(jobs[name])
            assert job["status"] == "success" and job["ops"][0]["OP_ID"] == opcode, (name, job["status"], job["ops"][0])
            assert job["ops"][0]["instance_name"] == instance_name
        assert rapi.get_job(jobs["reboot"])["ops"][0]["reboot_type"] == "hard"
        # resize of a running server: the modify, then a restart, each job depending on the previous one
        chain = [jobs["resize"]]
        for expected_op in ("OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_SET_PARAMS"):
            ((previous, statuses),) = rapi.get_job(chain[-1])["ops"][0]["depends"]
            assert statuses == ["success"]
            job = rapi.get_job(previous)
            assert job["status"] == "success" and job["ops"][0]["OP_ID"] == expected_op
            chain.append(previous)
        assert rapi.get_job(chain[-1])["ops"][0]["beparams"]["maxmem"] == 256
        # only the last job names the request (the pipeline may match a task's job by it)
        trails = [request_ids_in(rapi.get_job(j)["ops"][0]["reason"]) for j in chain]
        assert trails == [{resize_request}, set(), set()], trails
    finally:
        resp = demo.delete(f"/compute/v2.1/servers/{server_id}")
        assert resp.status_code == 204, resp.text
    demo.wait_for(server_id, lambda r: r.status_code == 404, "deleted (404)")
    assert instance_name not in rapi.list_instance_names()
    assert server_id not in [s["id"] for s in demo.get("/compute/v2.1/servers").json()["servers"]]


def _action_jobs(core_loop, server_id: int) -> dict[str, int]:
    """``{action: Ganeti job id}`` from the action log in the stack's database (read only)."""
    import psycopg2

    from tests import services

    conn = psycopg2.connect(services.PG_URL.rsplit("/", 1)[0] + "/" + core_loop.database)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT action, job_id FROM logic_serveraction WHERE server_id = %s AND job_id IS NOT NULL", [server_id])
            return dict(cur.fetchall())
    finally:
        conn.close()
