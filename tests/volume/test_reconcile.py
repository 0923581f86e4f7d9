"""reconcile-volumes: drift between volumes and the disks Ganeti reports is found and repaired."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from logic.enums import OperState
from logic.models import Volume, VolumeType
from tests.factories import BackendFactory, FlavorFactory, ServerFactory

pytestmark = pytest.mark.django_db


class Listing:
    def __init__(self, instances):
        self.instances = instances

    def list_instances(self):
        return self.instances

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_reconcile_volumes_reports_and_fixes(monkeypatch, settings):
    from logic import backends

    backend = BackendFactory(name="cluster.example.org")
    flavor = FlavorFactory(disk_template="file")
    a = ServerFactory(flavor=flavor, backend=backend, operstate=OperState.STOPPED)
    b = ServerFactory(flavor=flavor, backend=backend, operstate=OperState.STOPPED, project=a.project, user=a.user)
    vtype = VolumeType.objects.create(name="t", disk_template="file")

    def vol(**kw):
        return Volume.objects.create(project=a.project, user=a.user, size=1, volume_type=vtype, backend=backend,
                                     has_disk=True, **kw)  # fmt: skip

    moved = vol(status="in-use", attach_status="attached", server=a)  # Ganeti: on b
    detached = vol(status="in-use", attach_status="attached", server=a)  # Ganeti: nowhere
    attached = vol(status="available")  # Ganeti: on a
    stuck = vol(status="detaching", attach_status="detaching", server=b, task="DETACH", task_job_id=77)
    Volume.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    fine = vol(status="in-use", attach_status="attached", server=b)
    orphan = uuid.uuid4()
    prefix = settings.CYCLADES["GANETI_PREFIX"]
    instances = [
        {"name": a.ganeti_name, "disk.names": [None, attached.ganeti_name]},
        {"name": b.ganeti_name, "disk.names": [None, moved.ganeti_name, fine.ganeti_name, f"{prefix}-vol-{orphan}"]},
    ]
    monkeypatch.setattr(backends, "client_for", lambda backend: Listing(instances))

    out = io.StringIO()
    call_command("reconcile-volumes", "--json", stdout=out)
    (report,) = json.loads(out.getvalue())
    kinds = {(f["kind"], f["volume"]) for f in report["findings"]}
    assert kinds == {("attachment", str(moved.id)), ("attachment", str(detached.id)), ("attachment", str(attached.id)),
                     ("stuck", str(stuck.id)), ("orphan", str(orphan))}  # fmt: skip
    assert Volume.objects.get(pk=moved.pk).server_id == a.pk  # only reported

    with contextlib.redirect_stdout(io.StringIO()):
        call_command("reconcile-volumes", "--fix", stdout=io.StringIO())
    rows = {v.pk: v for v in Volume.objects.all()}
    assert (rows[moved.pk].server_id, rows[moved.pk].status) == (b.pk, "in-use")
    assert (rows[detached.pk].server_id, rows[detached.pk].status) == (None, "available")
    assert (rows[attached.pk].server_id, rows[attached.pk].status) == (a.pk, "in-use")
    assert (rows[stuck.pk].status, rows[stuck.pk].task) == ("available", None)
    assert rows[fine.pk].status == "in-use"
    out = io.StringIO()
    call_command("reconcile-volumes", "--json", stdout=out)
    assert [f["kind"] for f in json.loads(out.getvalue())[0]["findings"]] == ["orphan"]
