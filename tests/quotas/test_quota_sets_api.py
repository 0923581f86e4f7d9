"""os-quota-sets: Nova-shaped show/detail/defaults for the project, update and reset for admins."""

from __future__ import annotations

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from logic import quotas
from logic.enums import QuotaResource, Role
from tests.factories import ProjectFactory, member_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

V21 = "/compute/v2.1/os-quota-sets"
NOVA_KEYS = {
    "id",
    "cores",
    "fixed_ips",
    "floating_ips",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
    "injected_files",
    "instances",
    "key_pairs",
    "metadata_items",
    "ram",
    "security_group_rules",
    "security_groups",
    "server_group_members",
    "server_groups",
}


def client(role: str, project=None):
    token, user, project = member_token(role, project=project)
    c = APIClient()
    c.credentials(HTTP_X_AUTH_TOKEN=token, HTTP_X_OPENSTACK_NOVA_API_VERSION="2.1")
    c.project, c.user_obj = project, user
    return c


@pytest.fixture
def member():
    return client(Role.MEMBER)


@pytest.fixture
def admin():
    return client(Role.ADMIN)


def test_member_sees_own_project_quota_set_with_exactly_novas_keys(member):
    resp = member.get(f"{V21}/{member.project.pk}")
    assert resp.status_code == 200
    body = resp.json()["quota_set"]
    assert set(body) == NOVA_KEYS
    assert body["id"] == member.project.pk and body["instances"] == 10 and body["cores"] == 20 and body["ram"] == 51200


def test_member_may_not_see_another_project_nor_update(member):
    other = ProjectFactory()
    assert member.get(f"{V21}/{other.pk}").status_code == 403
    resp = member.put(f"{V21}/{member.project.pk}", {"quota_set": {"instances": 99}}, format="json")
    assert resp.status_code == 403 and "forbidden" in resp.json()
    assert quotas.limits(member.project)[QuotaResource.SERVERS] == 10


def test_admin_updates_resets_and_reads_detail(admin, member):
    pid = member.project.pk
    resp = admin.put(f"{V21}/{pid}", {"quota_set": {"instances": 3, "cores": "8", "cyclades.cpu": 4}}, format="json")
    assert resp.status_code == 200, resp.json()
    assert resp.json()["quota_set"]["instances"] == 3 and "id" not in resp.json()["quota_set"]
    assert quotas.limits(member.project)[QuotaResource.CPU] == 4
    with transaction.atomic():
        quotas.charge(member.project, member.user_obj, {QuotaResource.SERVERS: 2}, reason="test")
    detail = member.get(f"{V21}/{pid}/detail").json()["quota_set"]
    assert detail["instances"] == {"limit": 3, "in_use": 0, "reserved": 2}
    assert detail["cores"]["limit"] == 8
    # below what is in use: refused unless forced
    resp = admin.put(f"{V21}/{pid}", {"quota_set": {"instances": 1}}, format="json")
    assert resp.status_code == 400 and "already in use" in resp.json()["badRequest"]["message"]
    assert admin.put(f"{V21}/{pid}", {"quota_set": {"instances": 1, "force": True}}, format="json").status_code == 200
    assert admin.delete(f"{V21}/{pid}").status_code == 202
    assert member.get(f"{V21}/{pid}").json()["quota_set"]["instances"] == 10


def test_admin_sets_a_users_limit(admin, member):
    pid, uid = member.project.pk, member.user_obj.pk
    resp = admin.put(f"{V21}/{pid}?user_id={uid}", {"quota_set": {"instances": 1}}, format="json")
    assert resp.status_code == 200
    assert quotas.limits(member.project, member.user_obj)[QuotaResource.SERVERS] == 1
    assert quotas.limits(member.project)[QuotaResource.SERVERS] == 10
    assert admin.get(f"{V21}/{pid}?user_id=nobody").status_code == 404


@pytest.mark.parametrize(
    "spec",
    [
        {"instances": "many"},
        {"instances": -2},
        {"instances": True},
        {"key_pairs": 5},
        {"bogus": 1},
        {"force": "maybe", "instances": 2},
    ],
)
def test_bad_updates_are_400_and_change_nothing(admin, member, spec):
    resp = admin.put(f"{V21}/{member.project.pk}", {"quota_set": spec}, format="json")
    assert resp.status_code == 400 and "badRequest" in resp.json()
    assert quotas.overrides(member.project) == {}


def test_bad_body_and_unknown_project(admin):
    assert admin.put(f"{V21}/{admin.project.pk}", {"instances": 2}, format="json").status_code == 400
    assert admin.get(f"{V21}/no-such-project").status_code == 404


def test_defaults_and_synnefo_personality_show_the_clouds_own_resources(member):
    defaults = member.get(f"{V21}/{member.project.pk}/defaults").json()["quota_set"]
    assert set(defaults) == NOVA_KEYS and defaults["instances"] == 10
    synnefo = member.get(f"/compute/v2.0/os-quota-sets/{member.project.pk}").json()["quota_set"]
    assert synnefo["cyclades.cpu"] == 20 and synnefo["cyclades.disk"] == 1000
