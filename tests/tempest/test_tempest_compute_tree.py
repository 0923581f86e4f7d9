"""tempest's whole ``tempest.api.compute`` tree, with admin credentials, against the stack on the real sandbox.

Unmodified tempest 47.0.0 (``run_tempest``: own database, vhost, Ganeti prefix, account
locks). Zero failures are required. What is left out is listed in :data:`EXCLUDED` with
the reason: tests of what the networks, volumes and console issues build (their own
checks cover it, and this selection takes them in as they land) and Nova APIs this cloud
does not offer at all, for which tempest has no feature flag to skip them. Every skip
tempest itself makes is printed with its reason and must be explained by
:data:`EXPECTED_SKIP_REASONS` (a feature flag of ``run_tempest.tempest_conf``, a service
that is not there, or a microversion range above the advertised maximum).
"""

from __future__ import annotations

import json

import pytest

from tests import services
from tests.tempest import run_tempest
from tests.tempest import stack as stackmod
from tests.tempest.test_tempest_compute_images import SNAPSHOT_ARGS, install_os_definition

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(3600)]

# module or class under tempest.api.compute -> why it is not in this selection
EXCLUDED: dict[str, str] = {
    # the networks issue (Neutron security groups, floating IPs, several NICs, the nova-network proxies)
    "security_groups.": (
        "networks issue: run by test_tempest_compute_network.py (servers need ports; this stack's 'private' has none)"
    ),
    "admin.test_quotas_negative.QuotasSecurityGroupAdminNegativeTest": "networks issue: security group quotas",
    "servers.test_server_actions.ServerActionsTestOtherA.test_remove_server_all_security_groups": (
        "networks issue: removing a server's security groups"
    ),
    "admin.test_networks.": "networks issue: the os-networks proxy",
    "admin.test_auto_allocate_network.": "networks issue: auto-allocated topology",
    # the volumes issue
    "volumes.": "volumes issue: Cinder",
    "admin.test_volume": "volumes issue: Cinder",
    "servers.test_server_rescue": "not offered: rescue (and its volume variants)",
    # Nova APIs this cloud does not offer (no tempest feature flag skips them)
    "admin.test_hosts": "not offered: os-hosts (deprecated by Nova at 2.43)",
    "admin.test_migrations.MigrationsAdminTest": (
        "tempest credentials: the class asks for project_manager credentials (Keystone's manager role is not offered); "
        "os-migrations itself is checked in tests/compute/test_migrations.py and test_admin_api_schemas.py"
    ),
    "admin.test_hypervisor.HypervisorAdminTestJSON.test_get_hypervisor_uptime": (
        "not offered: a node's uptime (Ganeti's RAPI does not report it; /uptime answers 501 as Nova does without it)"
    ),
    "admin.test_live_migration": "not offered: live migration through the API",
    "admin.test_instance_usage_audit_log": "not offered: instance usage audit log",
    "admin.test_server_diagnostics": "not offered: server diagnostics",
    "admin.test_server_external_events": "not offered: server external events",
    "admin.test_servers_on_multinodes": "not offered: host-targeted placement",
    "admin.test_migrate_server": "not offered: migrate through the API",
    "admin.test_servers_negative.ServersAdminNegativeTestJSON.test_migrate": "not offered: migrate through the API",
    "admin.test_quotas.QuotaClassesAdmin": "not offered: quota classes",
    "admin.test_quotas.QuotasAdminTest": (
        "tempest dynamic credentials: creates projects and users through the Keystone admin API, not offered"
    ),
    "admin.test_quotas_negative.QuotasAdminNegativeTest": (
        "tempest dynamic credentials: creates projects and users through the Keystone admin API, not offered"
    ),
    "admin.test_servers.ServersAdminTestJSON.test_reset_state_server": (
        "not offered: os-resetState (a server's state is only what Ganeti reports)"
    ),
    "admin.test_servers.ServersAdminTestJSON.test_list_servers_filter_by_error_status": "not offered: os-resetState",
    "admin.test_servers.ServersAdminTestJSON.test_rebuild_server_in_error_state": "not offered: os-resetState",
    "admin.test_servers_negative.ServersAdminNegativeTestJSON.test_reset_state": "not offered: os-resetState",
    "admin.test_delete_server.DeleteServersAdminTestJSON.test_delete_server_while_in_error_state": ("not offered: os-resetState"),
    "admin.test_servers.ServersAdminTestJSON.test_inject_network_info": "not offered: injectNetworkInfo",
    "admin.test_flavors.FlavorsAdminTestJSON.test_create_flavor_with_uuid_id": (
        "not offered: flavor ids are integers here (string and UUID flavor ids are refused with a 400)"
    ),
    "admin.test_flavors.FlavorsAdminTestJSON.test_create_flavor_with_none_id": (
        "not offered: a flavor created without an id gets the next integer id, not a UUID"
    ),
    "admin.test_servers.ServersAdminTestJSON.test_reset_network": "not offered: resetNetwork",
}

# Skips whose reason the configuration asks for (features flagged off, services not there)
EXPECTED_SKIP_REASONS = (
    "not available",  # pause, suspend, shelve, rescue, live migration, interface attach, ...
    "volume",
    "cinder",
    "validation",
    "personality",
    "microversion range",  # above the advertised maximum (2.100: only the 2.104 pinned-zone update class)
    "console",
    "diskconfig",
    "snapshot",
    "is resolved",  # tempest's own skip_because of fixed bugs
    "compute nodes",  # multi-node tests on one cluster
    "fqdn",
    "neutron does not check",  # nova-network-only negative tests
    "neutron allows",
    "nova-network",
    "service role",  # tempest's service-role credentials (not pre-provisioned)
    "disabled",  # a feature flag (vnc console, ...)
    "not supported",
    "not enabled",
)


def tree_regex() -> str:
    """``tempest.api.compute.`` without :data:`EXCLUDED`, as one regex for ``tempest run --regex``."""
    prefix = r"tempest\.api\.compute\."
    excluded = "|".join(prefix + name.replace(".", r"\.") for name in EXCLUDED)
    return rf"^(?!(?:{excluded}))" + prefix


def test_the_compute_tree_passes_with_admin_credentials(capsys):
    if found := stackmod.problems():
        services.missing("the whole stack", "; ".join(found))
    install_os_definition()  # snapshots (images.*, createBackup) go through our OS definition's export script
    code = run_tempest.main([*SNAPSHOT_ARGS, "--regex", tree_regex(), "--concurrency", "2"])
    summary = json.loads((run_tempest.WORKSPACE / "summary.json").read_text())
    with capsys.disabled():
        print("\n" + run_tempest.report(summary))
        print("left out of this selection:")
        for name, reason in EXCLUDED.items():
            print(f"  EXCLUDED tempest.api.compute.{name}: {reason}")
    assert summary["failed"] == 0, summary["failures"]
    assert code == 0
    assert summary["passed"] >= 200, "the compute tree ran far fewer tests than it holds"
    admin_passed = [t for t in summary["passed_tests"] if t.startswith("tempest.api.compute.admin.")]
    assert len(admin_passed) >= 20, f"too few admin tests passed: {admin_passed}"
    unexpected = run_tempest.unexplained_skips(summary, EXPECTED_SKIP_REASONS)
    assert not unexpected, f"skips the configuration does not explain: {unexpected}"
    admin_skips = {t: r for t, r in summary["skips"].items() if "admin api credentials" in r.lower()}
    assert not admin_skips, f"tempest ran without admin credentials: {admin_skips}"
