"""Server endpoints over HTTP on the real database, Ganeti job submission recorded (see conftest)."""

from __future__ import annotations

import pytest

from logic.enums import OperState, ServerTask
from logic.models import Server, ServerAction

pytestmark = pytest.mark.django_db


def create(client, flavor, image, **extra):
    body = {"server": {"name": "vm1", "flavorRef": str(flavor.pk), "imageRef": str(image.id), **extra}}
    return client.post("/compute/v2.1/servers", body, format="json")


def test_create_answers_202_with_the_strict_shape_and_submits_one_job(member, jobs, backend, flavor, image):
    resp = create(member, flavor, image, adminPass="s3cret!", metadata={"a": "b"})
    assert resp.status_code == 202, resp.content
    body = resp.json()["server"]
    assert set(body) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert body["adminPass"] == "s3cret!"
    assert body["id"].isdigit()
    assert resp["Location"].endswith(f"/compute/v2.1/servers/{body['id']}")
    server = Server.objects.get(pk=int(body["id"]))
    assert (server.operstate, server.task, server.task_job_id) == (OperState.BUILD, ServerTask.BUILD, 1000)
    assert server.backend == backend
    assert jobs.names() == ["create_server"]
    action = ServerAction.objects.get(server=server)
    assert action.action == "create" and action.request_id == resp["X-Openstack-Request-Id"] and action.job_id == 1000


# ----------------------------------------------------------------------------- shapes (tempest's rules)
LINKS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"href": {"type": "string", "pattern": "^https?://"}, "rel": {"type": "string"}},
        "required": ["href", "rel"],
        "additionalProperties": False,
    },
}
ADDRESSES = {
    "type": "object",
    "patternProperties": {
        "^[a-zA-Z0-9-_.]+$": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "version": {"type": "integer"},
                    "addr": {"type": "string"},
                    "OS-EXT-IPS:type": {"type": "string"},
                    "OS-EXT-IPS-MAC:mac_addr": {"type": "string", "pattern": "^([0-9a-f]{2}:){5}[0-9a-f]{2}$"},
                },
                "required": ["version", "addr"],
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}
DATE = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"}
COMMON = {
    "id": {"type": "string", "pattern": r"^\d+$"},
    "name": {"type": "string"},
    "status": {"type": "string"},
    "image": {
        "oneOf": [
            {
                "type": "object",
                "properties": {"id": {"type": "string"}, "links": LINKS},
                "required": ["id", "links"],
                "additionalProperties": False,
            },
            {"type": "string"},
        ]
    },
    "flavor": {"type": "object", "properties": {"id": {"type": "string"}, "links": LINKS}, "additionalProperties": False},
    "fault": {"type": "object"},
    "user_id": {"type": "string"},
    "tenant_id": {"type": "string"},
    "created": DATE,
    "updated": DATE,
    "progress": {"type": "integer"},
    "metadata": {"type": "object"},
    "links": LINKS,
    "addresses": ADDRESSES,
    "hostId": {"type": "string"},
    "OS-DCF:diskConfig": {"type": "string"},
    "accessIPv4": {"type": "string"},
    "accessIPv6": {"type": "string"},
}
REQUIRED = [
    "id",
    "name",
    "status",
    "image",
    "flavor",
    "user_id",
    "tenant_id",
    "created",
    "updated",
    "metadata",
    "links",
    "addresses",
    "hostId",
]
COMMON_SCHEMA = {"type": "object", "properties": COMMON, "required": REQUIRED, "additionalProperties": False}
DETAIL_SCHEMA = {
    "type": "object",
    "properties": {
        **COMMON,
        "key_name": {"type": ["string", "null"]},
        "security_groups": {"type": "array"},
        "OS-SRV-USG:launched_at": {"type": ["string", "null"]},
        "OS-SRV-USG:terminated_at": {"type": ["string", "null"]},
        "OS-EXT-AZ:availability_zone": {"type": "string"},
        "OS-EXT-STS:task_state": {"type": ["string", "null"]},
        "OS-EXT-STS:vm_state": {"type": "string"},
        "OS-EXT-STS:power_state": {"enum": [0, 1, 3, 4, 6, 7]},
        "os-extended-volumes:volumes_attached": {"type": "array"},
        "config_drive": {"type": "string"},
    },
    "required": REQUIRED,
    "additionalProperties": False,
}


def validate(instance, schema):
    import jsonschema

    jsonschema.validate(instance, schema)


def set_state(server, operstate, task=None, **extra):
    Server.objects.filter(pk=server.pk).update(operstate=operstate, task=task, **extra)
    server.refresh_from_db()


def add_nic(server, ip="10.0.0.5", network="private"):
    from logic.models import ServerNIC

    ServerNIC.objects.create(server=server, index=0, network_name=network, mac="aa:00:00:11:22:33", ipv4=ip)


def test_show_and_detail_match_tempests_strict_schema(member, server):
    add_nic(server)
    set_state(server, OperState.STARTED)
    show = member.get(f"/compute/v2.1/servers/{server.pk}")
    assert show.status_code == 200
    assert show["X-OpenStack-Nova-API-Version"] == "2.1"
    body = show.json()["server"]
    validate(body, DETAIL_SCHEMA)
    assert body["status"] == "ACTIVE" and body["OS-EXT-STS:task_state"] is None and body["OS-EXT-STS:power_state"] == 1
    assert body["addresses"] == {
        "private": [
            {"version": 4, "addr": "10.0.0.5", "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": "aa:00:00:11:22:33"}
        ]
    }
    assert body["metadata"] == {"k": "v"}
    assert body["tenant_id"] == member.project.pk and body["user_id"] == member.user_obj.pk
    detail = member.get("/compute/v2.1/servers/detail")
    validate(detail.json()["servers"][0], DETAIL_SCHEMA)
    listing = member.get("/compute/v2.1/servers").json()
    assert listing == {"servers": [{"id": str(server.pk), "name": "vm1", "links": body["links"]}]}


def test_build_status_and_task_state(member, server):
    body = member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]
    assert body["status"] == "BUILD" and body["OS-EXT-STS:task_state"] == "spawning" and body["OS-EXT-STS:vm_state"] == "building"


def test_update_returns_the_common_shape_and_canonicalises_access_ips(member, server):
    resp = member.put(
        f"/compute/v2.1/servers/{server.pk}",
        {"server": {"name": "renamed", "accessIPv4": "1.1.1.1", "accessIPv6": "2001:DB8:0:0:0:0:0:1"}},
        format="json",
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()["server"]
    validate(body, COMMON_SCHEMA)
    assert (body["name"], body["accessIPv4"], body["accessIPv6"]) == ("renamed", "1.1.1.1", "2001:db8::1")


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": "a" * 256},
        {"name": 12345},
        {"name": " lead"},
        {"accessIPv4": "1.1.1"},
        {"accessIPv6": "2.2.2.2"},
        {"bogus": 1},
    ],
)
def test_update_rejects_bad_values_and_changes_nothing(member, server, change):
    resp = member.put(f"/compute/v2.1/servers/{server.pk}", {"server": change}, format="json")
    assert resp.status_code == 400 and "badRequest" in resp.json()
    assert Server.objects.get(pk=server.pk).name == "vm1"


# ----------------------------------------------------------------------------- create negatives
@pytest.mark.parametrize(
    "extra,reason",
    [
        ({"name": ""}, "empty name"),
        ({"name": "x" * 256}, "long name"),
        ({"name": 12345}, "numeric name"),
        ({"imageRef": "-1"}, "bad image"),
        ({"imageRef": "0b6e3a5c-1111-4c4c-9999-000000000000"}, "unknown image"),
        ({"flavorRef": "-1"}, "bad flavor"),
        ({"flavorRef": "999999"}, "unknown flavor"),
        ({"accessIPv4": "1.1.1.1.1"}, "bad ipv4"),
        ({"accessIPv6": "2.2.2.2"}, "bad ipv6"),
        ({"key_name": "nope"}, "unknown keypair"),
        ({"metadata": {"a" * 256: "b"}}, "long metadata key"),
        ({"metadata": {"a": "b" * 256}}, "long metadata value"),
        ({"metadata": "x"}, "metadata not an object"),
        ({"networks": [{"uuid": "a-b-c-d-e-f-g-h-i-j", "fixed_ip": "10.0.1.1"}]}, "bad network uuid"),
        ({"networks": [{"uuid": "0b6e3a5c-1111-4c4c-9999-000000000000"}]}, "unknown network"),
        ({"security_groups": [{"name": "nope"}]}, "unknown security group"),
        ({"min_count": 3, "max_count": 2}, "min > max"),
        ({"block_device_mapping_v2": [{"source_type": "volume", "uuid": "x", "boot_index": 0}]}, "volume boot"),
    ],
)
def test_create_rejects_bad_input_with_400_and_writes_nothing(member, jobs, backend, flavor, image, extra, reason):
    body = {"name": "vm1", "flavorRef": str(flavor.pk), "imageRef": str(image.id), **extra}
    resp = member.post("/compute/v2.1/servers", {"server": body}, format="json")
    assert resp.status_code == 400, reason
    assert "badRequest" in resp.json()
    assert Server.objects.count() == 0 and jobs.calls == []


def test_create_from_bdm_only_like_the_cli(member, jobs, backend, flavor, image):
    bdm = [
        {
            "uuid": str(image.id),
            "boot_index": 0,
            "source_type": "image",
            "destination_type": "local",
            "delete_on_termination": True,
        }
    ]
    body = {
        "server": {
            "name": "vm1",
            "flavorRef": str(flavor.pk),
            "imageRef": str(image.id),
            "min_count": 1,
            "max_count": 1,
            "block_device_mapping_v2": bdm,
        }
    }
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    body["server"].pop("imageRef")
    assert member.post("/compute/v2.1/servers", body, format="json").status_code == 202
    assert Server.objects.filter(image=image).count() == 2


def test_create_generates_a_password_and_keeps_user_data_out_of_ganeti(member, jobs, backend, flavor, image):
    resp = create(member, flavor, image, user_data="I2Nsb3VkLWNvbmZpZw==")
    assert len(resp.json()["server"]["adminPass"]) >= 12
    ((name, args, kwargs),) = jobs.calls
    assert name == "create_server" and "I2Nsb3VkLWNvbmZpZw==" not in repr(kwargs)
    assert Server.objects.get().user_data == "I2Nsb3VkLWNvbmZpZw=="


def test_max_count_creates_several(member, jobs, backend, flavor, image):
    assert create(member, flavor, image, min_count=1, max_count=3).status_code == 202
    assert Server.objects.count() == 3 and jobs.names() == ["create_server"] * 3


def test_failed_job_submission_puts_the_server_in_error_with_a_fault(member, jobs, backend, flavor, image):
    jobs.fail_with = ConnectionError("RAPI unreachable")
    resp = create(member, flavor, image)
    assert resp.status_code == 202
    body = member.get(f"/compute/v2.1/servers/{resp.json()['server']['id']}").json()["server"]
    assert body["status"] == "ERROR" and "RAPI unreachable" in body["fault"]["message"]
    validate(body, DETAIL_SCHEMA)
    # and it can be deleted without Ganeti
    assert member.delete(f"/compute/v2.1/servers/{body['id']}").status_code == 204
    assert member.get(f"/compute/v2.1/servers/{body['id']}").status_code == 404


def test_no_backend_means_error_with_no_valid_host(member, jobs, flavor, image):
    resp = create(member, flavor, image)
    assert resp.status_code == 202
    body = member.get(f"/compute/v2.1/servers/{resp.json()['server']['id']}").json()["server"]
    assert body["status"] == "ERROR" and "No valid host" in body["fault"]["message"]
    assert jobs.calls == []


# ----------------------------------------------------------------------------- isolation and roles
def test_another_projects_server_is_404_everywhere(other, server):
    base = f"/compute/v2.1/servers/{server.pk}"
    assert other.get(base).status_code == 404
    assert other.put(base, {"server": {"name": "x"}}, format="json").status_code == 404
    assert other.delete(base).status_code == 404
    assert other.post(base + "/action", {"os-stop": None}, format="json").status_code == 404
    assert other.get(base + "/metadata").status_code == 404
    assert other.get(base + "/ips").status_code == 404
    assert other.get(base + "/os-instance-actions").status_code == 404
    assert other.get("/compute/v2.1/servers/detail").json()["servers"] == []


def test_a_reader_reads_but_cannot_write(reader, server, jobs):
    base = f"/compute/v2.1/servers/{server.pk}"
    assert reader.get(base).status_code == 200
    assert reader.put(base, {"server": {"name": "x"}}, format="json").status_code == 403
    assert reader.delete(base).status_code == 403
    assert reader.post(base + "/action", {"reboot": {"type": "HARD"}}, format="json").status_code == 403
    assert reader.post(base + "/metadata", {"metadata": {"a": "b"}}, format="json").status_code == 403
    assert reader.post("/compute/v2.1/servers", {"server": {}}, format="json").status_code == 403
    assert jobs.names() == ["create_server"]


def test_no_token_is_401(client):
    assert client.get("/compute/v2.1/servers").status_code == 401


@pytest.mark.parametrize("ident", ["-1", "abc", "s" * 30, "99999999", "0b6e3a5c-1111-4c4c-9999-000000000000"])
def test_unknown_or_malformed_ids_are_404(member, ident):
    assert member.get(f"/compute/v2.1/servers/{ident}").status_code == 404
    assert member.delete(f"/compute/v2.1/servers/{ident}").status_code == 404
