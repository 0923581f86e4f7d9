"""``backend-modify --hypervisor``: which hypervisor new servers get, against the real sandbox."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from logic import backends
from logic.backend_hypervisor import kept_hypervisor
from logic.models import Backend
from tests import services
from tests.ganeti.test_backend_commands import add_args

pytestmark = [pytest.mark.ganeti, pytest.mark.django_db]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_kept_hypervisor_follows_the_cluster():
    assert kept_hypervisor("kvm", "fake", ["fake", "kvm"]) == "kvm"
    assert kept_hypervisor("kvm", "fake", ["fake"]) == "fake"  # kvm was disabled on the cluster
    assert kept_hypervisor("", "fake", ["fake"]) == "fake"


def test_backend_modify_hypervisor_only_to_an_enabled_one(ganeti_sandbox, rapi, tmp_path):
    password = tmp_path / "pw"
    password.write_text(ganeti_sandbox["GANETI_RAPI_PASSWORD"] + "\n")
    run(*add_args(ganeti_sandbox, str(password)))
    enabled = rapi.get_info()["enabled_hypervisors"]
    with pytest.raises(CommandError, match="not enabled on cluster"):
        run("backend-modify", "sandbox", "--hypervisor", "xen-pvm")
    assert Backend.objects.get(name="sandbox").hypervisor == "fake"
    if "kvm" not in enabled:
        services.missing("kvm on the Ganeti sandbox", "run conf/ganeti-sandbox/enable-kvm.sh")
    shown = json.loads(run("backend-modify", "sandbox", "--hypervisor", "kvm", "--json"))
    assert shown["hypervisor"] == "kvm"
    # a refresh keeps the choice while the cluster has kvm enabled
    assert backends.refresh_stats(Backend.objects.get(name="sandbox")).hypervisor == "kvm"
