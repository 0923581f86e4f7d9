"""Flavor extra specs over HTTP: admins set, change and remove them; everyone who sees the flavor reads them."""

from __future__ import annotations

import pytest

from logic.models import Flavor
from tests.compute import tempest_schemas


def url(flavor, key=None):
    return f"/compute/v2.1/flavors/{flavor.pk}/os-extra_specs" + (f"/{key}" if key else "")


def test_admins_set_update_and_unset_extra_specs(admin, member, flavor):
    created = admin.post(url(flavor), {"extra_specs": {"hw:cpu_policy": "shared", "quota:cpu": 2}}, format="json")
    assert created.status_code == 200 and created.json() == {"extra_specs": {"hw:cpu_policy": "shared", "quota:cpu": "2"}}
    tempest_schemas.validate(created, "flavors_extra_specs", "set_get_flavor_extra_specs", "2.1")
    assert member.get(url(flavor)).json() == {"extra_specs": {"hw:cpu_policy": "shared", "quota:cpu": "2"}}
    updated = admin.put(url(flavor, "quota:cpu"), {"quota:cpu": "4"}, format="json")
    assert updated.status_code == 200 and updated.json() == {"quota:cpu": "4"}
    assert member.get(url(flavor, "quota:cpu")).json() == {"quota:cpu": "4"}
    deleted = admin.delete(url(flavor, "hw:cpu_policy"))
    assert deleted.status_code == 200
    assert Flavor.objects.get(pk=flavor.pk).extra_specs == {"quota:cpu": "4"}


@pytest.mark.parametrize(
    ("method", "key", "body", "status"),
    [
        ("put", "a", {"b": "1"}, 400),  # the body's key is not the URL's
        ("put", "a", {"a": "1", "b": "2"}, 400),  # more than one key
        ("post", None, {"extra_specs": {"bad/key": "1"}}, 400),
        ("post", None, {"extra_specs": {"k": "x" * 256}}, 400),
        ("post", None, {"extra_specs": "nope"}, 400),
        ("delete", "missing", None, 404),
    ],
)
def test_bad_extra_spec_requests_change_nothing(admin, flavor, method, key, body, status):
    Flavor.objects.filter(pk=flavor.pk).update(extra_specs={"a": "0"})
    resp = getattr(admin, method)(url(flavor, key), body, format="json")
    assert resp.status_code == status, resp.content
    assert Flavor.objects.get(pk=flavor.pk).extra_specs == {"a": "0"}


def test_members_may_not_change_extra_specs(member, flavor):
    Flavor.objects.filter(pk=flavor.pk).update(extra_specs={"a": "0"})
    assert member.post(url(flavor), {"extra_specs": {"b": "1"}}, format="json").status_code == 403
    assert member.put(url(flavor, "a"), {"a": "1"}, format="json").status_code == 403
    assert member.delete(url(flavor, "a")).status_code == 403
    assert Flavor.objects.get(pk=flavor.pk).extra_specs == {"a": "0"}


@pytest.mark.parametrize("value", ["False", "false", "0", "no", "OFF", False])
def test_flavor_create_takes_novas_boolean_strings_for_is_public(admin, value):
    body = {"flavor": {"name": f"p-{value}", "ram": 64, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": value}}
    resp = admin.post("/compute/v2.1/flavors", body, format="json")
    assert resp.status_code == 200, resp.content
    assert resp.json()["flavor"]["os-flavor-access:is_public"] is False


def test_flavor_create_refuses_a_non_boolean_is_public(admin):
    body = {"flavor": {"name": "p-x", "ram": 64, "vcpus": 1, "disk": 1, "os-flavor-access:is_public": "maybe"}}
    assert admin.post("/compute/v2.1/flavors", body, format="json").status_code == 400
    assert not Flavor.objects.filter(name="p-x").exists()
