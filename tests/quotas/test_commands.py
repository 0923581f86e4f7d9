"""cyclades-manage quota-set / quota-show."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from logic import quotas
from logic.enums import QuotaResource

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def show(*args) -> dict[str, dict]:
    out = StringIO()
    call_command("quota-show", *args, "--json", stdout=out)
    return {row["resource"]: row for row in json.loads(out.getvalue())}


def test_quota_set_overrides_and_resets(member):
    call_command("quota-set", member.project.name, "servers=3", "cyclades.disk=-1", "running_cores=8", stdout=StringIO())
    rows = show(member.project.pk)
    assert rows[QuotaResource.SERVERS]["limit"] == 3 and rows[QuotaResource.SERVERS]["source"] == "set"
    assert rows[QuotaResource.DISK]["limit"] == "unlimited"
    assert rows[QuotaResource.CPU]["limit"] == 8
    assert rows[QuotaResource.TOTAL_RAM]["source"] == "default"
    call_command("quota-set", member.project.name, "servers=default", stdout=StringIO())
    assert quotas.limits(member.project)[QuotaResource.SERVERS] == 10


def test_quota_set_for_a_user(member):
    call_command("quota-set", member.project.name, "servers=1", "--user", member.user.name, stdout=StringIO())
    assert show(member.project.name, "--user", member.user.name)[QuotaResource.SERVERS]["limit"] == 1
    assert quotas.limits(member.project)[QuotaResource.SERVERS] == 10


@pytest.mark.parametrize(
    "arg, message",
    [
        ("bogus=1", "unknown quota resource"),
        ("servers", "expected RESOURCE=LIMIT"),
        ("servers=x", "must be an integer"),
        ("servers=-5", "-1 for unlimited"),
    ],
)
def test_quota_set_refuses_bad_input_and_changes_nothing(member, arg, message):
    with pytest.raises(CommandError, match=message):
        call_command("quota-set", member.project.name, arg, stdout=StringIO())
    assert quotas.overrides(member.project) == {}


def test_unknown_project_is_a_clear_error(db):
    with pytest.raises(CommandError):
        call_command("quota-show", "no-such-project", stdout=StringIO())
