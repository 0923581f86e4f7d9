"""Server actions, metadata, addresses, the action log, listing filters and the v2.0 personality."""

from __future__ import annotations

import pytest

from logic.enums import DISKLESS, OperState, ServerTask
from logic.models import Flavor, Server
from tests.compute.test_servers_api import COMMON_SCHEMA, add_nic, create, set_state, validate

pytestmark = pytest.mark.django_db


def act(client, server, body, version="v2.1"):
    return client.post(f"/compute/{version}/servers/{server.pk}/action", body, format="json")


@pytest.mark.parametrize(
    "operstate,body,job,task,status",
    [
        (OperState.STARTED, {"reboot": {"type": "SOFT"}}, "reboot_server", ServerTask.REBOOT_SOFT, "REBOOT"),
        (OperState.STARTED, {"reboot": {"type": "HARD"}}, "reboot_server", ServerTask.REBOOT_HARD, "HARD_REBOOT"),
        (OperState.STARTED, {"os-stop": None}, "stop_server", ServerTask.STOP, "ACTIVE"),
        (OperState.STOPPED, {"os-start": None}, "start_server", ServerTask.START, "SHUTOFF"),
    ],
)
def test_actions_write_the_task_submit_the_job_and_log(member, server, jobs, operstate, body, job, task, status):
    set_state(server, operstate)
    resp = act(member, server, body)
    assert resp.status_code == 202, resp.content
    server.refresh_from_db()
    assert server.task == task and server.task_job_id == 1001
    assert jobs.names()[-1] == job
    shown = member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]
    assert shown["status"] == status and shown["OS-EXT-STS:task_state"] is not None
    actions = member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions").json()["instanceActions"]
    assert [a["action"] for a in actions][0] in {"reboot", "stop", "start"}
    assert actions[0]["request_id"] == resp["X-Openstack-Request-Id"]


@pytest.mark.parametrize(
    "operstate,task,body",
    [
        (OperState.BUILD, ServerTask.BUILD, {"reboot": {"type": "SOFT"}}),
        (OperState.STOPPED, None, {"os-stop": None}),
        (OperState.STARTED, None, {"os-start": None}),
        (OperState.STARTED, ServerTask.STOP, {"reboot": {"type": "HARD"}}),
        (OperState.STOPPED, None, {"reboot": {"type": "SOFT"}}),
        (OperState.STARTED, None, {"confirmResize": None}),
        (OperState.STARTED, None, {"revertResize": None}),
    ],
)
def test_actions_in_the_wrong_state_are_409_with_a_reason(member, server, jobs, operstate, task, body):
    set_state(server, operstate, task)
    resp = act(member, server, body)
    assert resp.status_code == 409, resp.content
    assert "instance" in resp.json()["conflictingRequest"]["message"].lower()
    assert jobs.names() == ["create_server"]


def test_bad_action_bodies_are_400(member, server):
    set_state(server, OperState.STARTED)
    assert act(member, server, {"reboot": {"type": "WARM"}}).status_code == 400
    assert act(member, server, {"frobnicate": None}).status_code == 400
    assert act(member, server, {"os-stop": None, "os-start": None}).status_code == 400
    assert act(member, server, {"resize": {"flavorRef": "999999"}}).status_code == 400


def test_create_image_answers_with_the_image_location_before_2_45(member, server, jobs, tmp_path, settings):
    from logic import image_deploy
    from logic.models import Image

    settings.CYCLADES = {**settings.CYCLADES, "IMAGE_FETCH_KEY_FILE": str(tmp_path / "key")}
    image_deploy.ensure_key_file(tmp_path / "key")
    set_state(server, OperState.STARTED)
    resp = act(member, server, {"createImage": {"name": "snap", "metadata": {"purpose": "test"}}})
    assert resp.status_code == 202 and not resp.content
    image = Image.objects.get(name="snap")
    assert resp["Location"].endswith(f"/compute/v2.1/images/{image.pk}")
    assert image.status == "queued" and image.visibility == "private" and image.owner_id == server.project_id
    assert image.properties["purpose"] == "test" and image.properties["instance_uuid"] == str(server.pk)
    snapshot = [c for c in jobs.calls if c[0] == "snapshot_server"]
    assert len(snapshot) == 1 and set(snapshot[0][1][1]) == {"img_upload", "img_upload_image", "img_url"}
    again = act(member, server, {"createImage": {"name": "snap2"}})
    assert again.status_code == 409  # one snapshot at a time (tempest: the second while the first is saving)


def test_lock_blocks_actions_and_delete_until_unlock(member, server, jobs):
    set_state(server, OperState.STARTED)
    assert act(member, server, {"lock": None}).status_code == 202
    assert act(member, server, {"os-stop": None}).status_code == 409
    assert member.delete(f"/compute/v2.1/servers/{server.pk}").status_code == 409
    assert act(member, server, {"unlock": None}).status_code == 202
    assert act(member, server, {"os-stop": None}).status_code == 202
    names = [a["action"] for a in member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions").json()["instanceActions"]]
    assert names == ["stop", "unlock", "lock", "create"]


def test_resize_verify_confirm(member, server, jobs, flavor, flavor_alt):
    set_state(server, OperState.STARTED)
    assert act(member, server, {"resize": {"flavorRef": str(server.flavor_id)}}).status_code == 400
    assert act(member, server, {"resize": {"flavorRef": str(flavor_alt.pk)}}).status_code == 202
    server.refresh_from_db()
    assert (server.task, server.flavor_id, server.old_flavor_id) == (ServerTask.RESIZE, flavor_alt.pk, flavor.pk)
    assert jobs.calls[-1][0] == "resize_server" and jobs.calls[-1][1][1] == flavor_alt
    assert jobs.calls[-1][2] == {"restart": True}  # running: restarted to run with the new size
    assert member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]["status"] == "RESIZE"
    # the event pipeline finishes the job: the server waits for confirmation
    set_state(server, OperState.STARTED, None, awaiting_resize_confirm=True)
    assert member.get(f"/compute/v2.1/servers/{server.pk}").json()["server"]["status"] == "VERIFY_RESIZE"
    assert act(member, server, {"os-stop": None}).status_code == 409
    assert act(member, server, {"confirmResize": None}).status_code == 204
    server.refresh_from_db()
    assert (server.awaiting_resize_confirm, server.old_flavor_id, server.flavor_id) == (False, None, flavor_alt.pk)


def test_resize_revert_goes_back_to_the_old_flavor(member, server, jobs, flavor, flavor_alt):
    set_state(server, OperState.STARTED)
    act(member, server, {"resize": {"flavorRef": str(flavor_alt.pk)}})
    set_state(server, OperState.STARTED, None, awaiting_resize_confirm=True)
    assert act(member, server, {"revertResize": None}).status_code == 202
    server.refresh_from_db()
    assert (server.task, server.flavor_id, server.old_flavor_id) == (ServerTask.REVERT_RESIZE, flavor.pk, None)
    assert jobs.calls[-1][0] == "resize_server" and jobs.calls[-1][1][1] == flavor
    assert jobs.calls[-1][2] == {"restart": True}


def test_resizing_a_stopped_server_does_not_start_it(member, server, jobs, flavor_alt):
    set_state(server, OperState.STOPPED)
    assert act(member, server, {"resize": {"flavorRef": str(flavor_alt.pk)}}).status_code == 202
    assert jobs.calls[-1][0] == "resize_server" and jobs.calls[-1][2] == {"restart": False}


def test_rebuild_answers_the_common_shape_with_the_password(member, server, jobs, image_alt):
    set_state(server, OperState.STARTED)
    resp = act(
        member,
        server,
        {"rebuild": {"imageRef": str(image_alt.id), "name": "rebuilt", "adminPass": "pw1234", "metadata": {"x": "y"}}},
    )
    assert resp.status_code == 202, resp.content
    body = resp.json()["server"]
    schema = {**COMMON_SCHEMA, "properties": {**COMMON_SCHEMA["properties"], "adminPass": {"type": "string"}}}
    validate(body, schema)
    assert (body["image"]["id"], body["name"], body["adminPass"], body["metadata"], body["status"]) == (
        str(image_alt.id),
        "rebuilt",
        "pw1234",
        {"x": "y"},
        "REBUILD",
    )
    assert jobs.calls[-1][0] == "rebuild_server"


def test_rebuild_of_a_diskless_server_is_refused_before_any_job(member, server, jobs, image_alt):
    """Ganeti cannot reinstall an instance without disks; its job would leave the VM shut down."""
    set_state(server, OperState.STARTED)
    Flavor.objects.filter(pk=server.flavor_id).update(disk_template=DISKLESS)
    calls, image_before = len(jobs.calls), server.image_id
    resp = act(member, server, {"rebuild": {"imageRef": str(image_alt.id), "name": "rebuilt"}})
    assert resp.status_code == 409, resp.content
    assert "diskless" in resp.json()["conflictingRequest"]["message"]
    server.refresh_from_db()
    assert (server.task, server.name, server.image_id, len(jobs.calls)) == (None, "vm1", image_before, calls)


def test_failed_action_submission_clears_the_task_and_logs_the_error(member, server, jobs):
    set_state(server, OperState.STARTED)
    jobs.fail_with = RuntimeError("queue full")
    assert act(member, server, {"reboot": {"type": "HARD"}}).status_code == 202
    server.refresh_from_db()
    assert server.task is None and server.operstate == OperState.STARTED
    rid = member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions").json()["instanceActions"][0]["request_id"]
    shown = member.get(
        f"/compute/v2.1/servers/{server.pk}/os-instance-actions/{rid}", HTTP_OPENSTACK_API_VERSION="compute 2.51"
    ).json()["instanceAction"]
    assert shown["events"][0]["result"] == "Error"


def test_delete_submits_destroy_and_v21_hides_deleted(member, server, jobs):
    set_state(server, OperState.STARTED)
    assert member.delete(f"/compute/v2.1/servers/{server.pk}").status_code == 204
    assert jobs.names()[-1] == "destroy_server"
    assert member.delete(f"/compute/v2.1/servers/{server.pk}").status_code == 204  # idempotent while deleting
    Server.objects.filter(pk=server.pk).update(deleted=True, operstate=OperState.DESTROYED, task=None)
    assert member.get(f"/compute/v2.1/servers/{server.pk}").status_code == 404
    assert member.get("/compute/v2.1/servers").json()["servers"] == []
    body = member.get(f"/compute/v2.0/servers/{server.pk}").json()["server"]  # Synnefo keeps it visible
    assert body["status"] == "DELETED" and body["deleted"] is True


# ----------------------------------------------------------------------------- metadata
def test_metadata_crud(member, server):
    base = f"/compute/v2.1/servers/{server.pk}/metadata"
    assert member.get(base).json() == {"metadata": {"k": "v"}}
    assert member.post(base, {"metadata": {"a": "1"}}, format="json").json() == {"metadata": {"k": "v", "a": "1"}}
    assert member.put(base, {"metadata": {"b": "2"}}, format="json").json() == {"metadata": {"b": "2"}}
    assert member.put(base + "/c", {"meta": {"c": "3"}}, format="json").json() == {"meta": {"c": "3"}}
    assert member.get(base + "/c").json() == {"meta": {"c": "3"}}
    assert member.put(base + "/c", {"meta": {"d": "3"}}, format="json").status_code == 400
    assert member.put(base + "/c", {"meta": {"c": "3", "d": "4"}}, format="json").status_code == 400
    assert member.delete(base + "/c").status_code == 204
    assert member.get(base + "/c").status_code == 404
    assert member.delete(base + "/c").status_code == 404
    assert member.post(base, {"metadata": {"": "x"}}, format="json").status_code == 400
    assert member.put(base, {"metadata": {"k" * 256: "x"}}, format="json").status_code == 400
    assert member.get(base).json() == {"metadata": {"b": "2"}}


# ----------------------------------------------------------------------------- addresses
def test_ips_and_ips_by_network(member, server):
    add_nic(server)
    base = f"/compute/v2.1/servers/{server.pk}/ips"
    assert member.get(base).json() == {"addresses": {"private": [{"version": 4, "addr": "10.0.0.5"}]}}
    assert member.get(base + "/private").json() == {"private": [{"version": 4, "addr": "10.0.0.5"}]}
    assert member.get(base + "/nope").status_code == 404


def test_instance_action_show_and_missing(member, server):
    rid = member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions").json()["instanceActions"][0]["request_id"]
    body = member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions/{rid}").json()["instanceAction"]
    assert set(body) == {"action", "request_id", "user_id", "project_id", "start_time", "message", "instance_uuid"}
    assert body["action"] == "create" and body["instance_uuid"] == str(server.pk)
    assert member.get(f"/compute/v2.1/servers/{server.pk}/os-instance-actions/req-nope").status_code == 404


# ----------------------------------------------------------------------------- listing
@pytest.fixture
def three(member, jobs, backend, flavor, flavor_alt, image, image_alt):
    ids = []
    for name, fl, im in (
        ("alpha-instance-1", flavor, image),
        ("beta-instance-2", flavor, image_alt),
        ("gamma-3", flavor_alt, image),
    ):
        ids.append(create(member, fl, im, name=name).json()["server"]["id"])
    s1, s2, s3 = (Server.objects.get(pk=int(i)) for i in ids)
    set_state(s1, OperState.STARTED)
    set_state(s2, OperState.STOPPED)
    set_state(s3, OperState.STARTED, ServerTask.REBOOT_SOFT)
    add_nic(s1, "10.0.0.11")
    add_nic(s2, "10.0.0.12")
    return s1, s2, s3


def names(client, query):
    resp = client.get(f"/compute/v2.1/servers/detail?{query}")
    assert resp.status_code == 200, resp.content
    return sorted(s["name"] for s in resp.json()["servers"])


def test_filters(member, three, flavor_alt, image_alt):
    assert names(member, "name=instance") == ["alpha-instance-1", "beta-instance-2"]
    assert names(member, r"name=^.*-instance-[0-9]%2B$") == ["alpha-instance-1", "beta-instance-2"]
    assert names(member, "status=ACTIVE") == ["alpha-instance-1"]
    assert names(member, "status=shutoff") == ["beta-instance-2"]
    assert names(member, "status=REBOOT") == ["gamma-3"]
    assert names(member, "status=ACTIVE&status=SHUTOFF") == ["alpha-instance-1", "beta-instance-2"]
    assert names(member, "status=non_existing_status") == []
    assert names(member, f"flavor={flavor_alt.pk}") == ["gamma-3"]
    assert names(member, f"image={image_alt.id}") == ["beta-instance-2"]
    assert names(member, "image=nope") == []
    assert names(member, "ip=10.0.0.11") == ["alpha-instance-1"]
    assert names(member, r"ip=10\.0\.0\.1") == ["alpha-instance-1", "beta-instance-2"]
    assert names(member, "changes-since=2000-01-01T00:00:00Z") == ["alpha-instance-1", "beta-instance-2", "gamma-3"]
    assert names(member, "changes-since=2999-01-01T00:00:00Z") == []
    assert member.get("/compute/v2.1/servers?changes-since=yesterday").status_code == 400
    assert member.get("/compute/v2.1/servers?limit=testing").status_code == 400
    assert member.get("/compute/v2.1/servers?limit=-1").status_code == 400
    assert member.get("/compute/v2.1/servers?name=(").status_code == 400


def test_status_filter_and_rendered_rows_agree_with_the_derived_status(member, server):
    from itertools import product

    from api.compute.server_render import status_of
    from logic import server_rows, server_status
    from logic.servers import status_q

    last_jobs = [
        (None, None, None),
        ("OP_INSTANCE_REBOOT", "running", "soft"),  # an operator's reboot in progress
        ("OP_INSTANCE_REBOOT", "waiting", "hard"),
        ("OP_INSTANCE_REBOOT", "success", "hard"),
        ("OP_INSTANCE_SHUTDOWN", "running", None),
    ]
    for operstate, task, awaiting, (opcode, jobstatus, reboot) in product(
        list(OperState), [None, *ServerTask], [False, True], last_jobs
    ):
        Server.objects.filter(pk=server.pk).update(
            operstate=operstate,
            task=task,
            awaiting_resize_confirm=awaiting,
            backend_opcode=opcode,
            backend_jobstatus=jobstatus,
            backend_reboot_type=reboot,
        )
        server.refresh_from_db()
        expected = server_status.server_status(server)
        matching = {s for s in server_status.STATUSES if Server.objects.filter(status_q(s), pk=server.pk).exists()}
        assert matching == {expected}, (operstate, task, awaiting, opcode, jobstatus, reboot)
        row = server_rows.load_one(Server.objects.all(), server.pk)
        assert status_of(row) == expected, (operstate, task, awaiting, opcode, jobstatus, reboot)


def test_rows_carry_every_column_the_status_derivation_reads():
    import inspect

    from logic import server_rows, server_status

    wanted = set(inspect.signature(server_status.derive_status).parameters)
    assert wanted <= set(server_rows.ServerRow.__dataclass_fields__)


def test_pagination_with_limit_marker_and_next_links(member, three):
    first = member.get("/compute/v2.1/servers?limit=2").json()
    assert [s["name"] for s in first["servers"]] == ["gamma-3", "beta-instance-2"]  # newest first
    next_href = first["servers_links"][0]["href"]
    assert first["servers_links"][0]["rel"] == "next" and "marker=" in next_href and "limit=2" in next_href
    second = member.get(next_href.removeprefix("http://testserver")).json()
    assert [s["name"] for s in second["servers"]] == ["alpha-instance-1"] and "servers_links" not in second
    assert member.get("/compute/v2.1/servers?limit=0").json() == {"servers": []}
    assert len(member.get("/compute/v2.1/servers?limit=100000").json()["servers"]) == 3
    assert member.get("/compute/v2.1/servers?marker=999999").status_code == 400


# ----------------------------------------------------------------------------- v2.0 (Synnefo)
def test_synnefo_create_returns_the_full_server_with_status(member, jobs, backend, flavor, image):
    body = {"server": {"name": "kamaki-vm", "flavorRef": flavor.pk, "imageRef": str(image.id), "metadata": {"OS": "debian"}}}
    resp = member.post("/compute/v2.0/servers", body, format="json")
    assert resp.status_code == 202, resp.content
    shown = resp.json()["server"]
    assert shown["status"] == "BUILD" and shown["adminPass"] and shown["id"].isdigit()
    assert "SNF:task_state" in shown and shown["metadata"] == {"OS": "debian"}
    assert "X-OpenStack-Nova-API-Version" not in resp


def test_synnefo_start_shutdown_console_and_stopped(member, server, jobs):
    set_state(server, OperState.STARTED)
    assert act(member, server, {"shutdown": {}}, "v2.0").status_code == 202
    set_state(server, OperState.STOPPED)
    assert member.get(f"/compute/v2.0/servers/{server.pk}").json()["server"]["status"] == "STOPPED"
    assert member.get("/compute/v2.0/servers/detail?status=STOPPED").json()["servers"][0]["id"] == str(server.pk)
    assert act(member, server, {"start": {}}, "v2.0").status_code == 202
    assert jobs.names()[-2:] == ["stop_server", "start_server"]
    set_state(server, OperState.STARTED)
    console = act(member, server, {"console": {"type": "vnc"}}, "v2.0")  # no console proxy configured here
    assert console.status_code == 503 and "console service" in console.json()["serviceUnavailable"]["message"]
    # the Synnefo names are not part of strict Nova
    assert act(member, server, {"shutdown": {}}).status_code == 400
