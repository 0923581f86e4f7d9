"""Charging, accepting and releasing commissions; limits; what a refusal leaves behind."""

from __future__ import annotations

import pytest
from django.db import transaction

from logic import quotas
from logic.enums import CommissionState, QuotaResource
from logic.errors import InvalidInput, OverQuotaError
from logic.models import Commission, QuotaHolding

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

VM, CPU, TOTAL_CPU = QuotaResource.SERVERS, QuotaResource.CPU, QuotaResource.TOTAL_CPU


def used(project, resource, user=None):
    return quotas.usage(project, user)[resource]


def test_charge_counts_at_once_and_accept_makes_it_final(member):
    with transaction.atomic():
        c = quotas.charge(member.project, member.user, {VM: 1, TOTAL_CPU: 2}, reason="create")
    assert c.state == CommissionState.PENDING and c.serial == c.pk
    u = used(member.project, VM)
    assert (u.committed, u.pending_up, u.in_use) == (0, 1, 1)
    assert used(member.project, VM, member.user).in_use == 1
    with transaction.atomic():
        assert quotas.accept(c) is True
    u = used(member.project, TOTAL_CPU)
    assert (u.committed, u.pending_up, u.in_use) == (2, 0, 2)


def test_accepting_or_releasing_twice_changes_nothing(member):
    with transaction.atomic():
        c = quotas.charge(member.project, member.user, {VM: 1}, reason="create")
        assert quotas.accept(c)
        assert not quotas.accept(c)
        assert not quotas.release(c)
    assert used(member.project, VM).committed == 1
    assert used(member.project, VM).pending_up == 0


def test_release_undoes_the_charge(member):
    with transaction.atomic():
        c = quotas.charge(member.project, member.user, {VM: 1, TOTAL_CPU: 4}, reason="create")
        quotas.release(c)
    assert all(u.in_use == 0 and u.committed == 0 for u in quotas.usage(member.project).values())
    assert Commission.objects.get(pk=c.pk).state == CommissionState.RELEASED


def test_negative_delta_frees_only_when_accepted(member):
    with transaction.atomic():
        quotas.accept(quotas.charge(member.project, member.user, {VM: 1}, reason="create"))
        c = quotas.charge(member.project, member.user, {VM: -1}, reason="delete")
    u = used(member.project, VM)
    assert (u.committed, u.pending_down, u.in_use) == (1, 1, 1)
    with transaction.atomic():
        quotas.accept(c)
    u = used(member.project, VM)
    assert (u.committed, u.pending_down, u.in_use) == (0, 0, 0)


def test_over_the_limit_is_refused_with_novas_message_and_changes_nothing(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_INSTANCES": 2}
    with transaction.atomic():
        quotas.charge(member.project, member.user, {VM: 2}, reason="two")
    before = list(QuotaHolding.objects.order_by("id").values())
    with pytest.raises(quotas.QuotaExceeded) as info, transaction.atomic():
        quotas.charge(member.project, member.user, {VM: 1, TOTAL_CPU: 1}, reason="third")
    assert isinstance(info.value, OverQuotaError)
    assert str(info.value) == "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"
    assert (info.value.limit, info.value.usage, info.value.requested) == (2, 2, 1)
    assert list(QuotaHolding.objects.order_by("id").values()) == before
    assert Commission.objects.count() == 1


def test_force_passes_the_limit(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_INSTANCES": 0}
    with transaction.atomic():
        c = quotas.charge(member.project, member.user, {VM: 1}, reason="gnt-instance add", force=True)
    assert c.forced and used(member.project, VM).in_use == 1


def test_per_project_override_and_per_user_limit(member):
    quotas.set_limits(member.project, {VM: 3})
    quotas.set_limits(member.project, {VM: 1}, user=member.user)
    assert quotas.limits(member.project)[VM] == 3
    assert quotas.limits(member.project, member.user)[VM] == 1
    with transaction.atomic():
        quotas.charge(member.project, member.user, {VM: 1}, reason="one")
    with pytest.raises(quotas.QuotaExceeded) as info, transaction.atomic():
        quotas.charge(member.project, member.user, {VM: 1}, reason="two")
    assert info.value.per_user and info.value.limit == 1
    quotas.set_limits(member.project, {VM: None}, user=member.user)
    assert quotas.limits(member.project, member.user)[VM] == quotas.UNLIMITED


def test_limit_below_usage_needs_force(member):
    with transaction.atomic():
        quotas.charge(member.project, member.user, {VM: 2}, reason="two")
    with pytest.raises(InvalidInput, match="less than the 2 already in use"):
        quotas.set_limits(member.project, {VM: 1})
    assert quotas.limits(member.project)[VM] == 10
    assert quotas.set_limits(member.project, {VM: 1}, force=True)[VM] == 1


@pytest.mark.parametrize("bad", [{"cyclades.nope": 1}, {VM: -2}, {VM: "3"}, {VM: True}])
def test_bad_limits_are_refused(member, bad):
    with pytest.raises(InvalidInput):
        quotas.set_limits(member.project, bad)
    assert quotas.overrides(member.project) == {}


@pytest.mark.django_db(transaction=True)
def test_charge_outside_a_transaction_is_a_programming_error(member):
    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        quotas.charge(member.project, member.user, {VM: 1}, reason="x")


def test_disabled_quotas_charge_nothing(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_ENABLED": False}
    with transaction.atomic():
        c = quotas.charge(member.project, member.user, {VM: 100}, reason="x")
        assert c is None and quotas.accept(c) is False
    assert QuotaHolding.objects.count() == 0
