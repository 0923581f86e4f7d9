"""Compute URL map (mounted at ``/compute`` by ``cyclades/urls.py``).

``api_patterns`` is served under ``/compute/v2.1/`` (strict Nova), ``/compute/v2.0/``
and ``/compute/v2/`` (the Synnefo flavour); views tell the two apart through
:class:`api.compute.base.ComputeView`. Add resources to ``api_patterns`` with
:func:`route` (a trailing slash is optional, as clients differ).
"""

from __future__ import annotations

from django.urls import include, path, re_path

from api.compute import (
    aggregates,
    availability_zones,
    extensions,
    flavors,
    floating_ips,
    hypervisors,
    images,
    instance_actions,
    interfaces,
    keypairs,
    limits,
    migrations,
    quota_sets,
    security_groups,
    server_extras,
    server_groups,
    server_password,
    servers,
    services,
    usage,
    versions,
    volume_attachments,
)


def route(pattern: str, view) -> object:
    """``pattern`` (a regex body without anchors) with an optional trailing slash."""
    return re_path(rf"^{pattern}/?$", view.as_view())


ID = r"(?P<server_id>[^/]+)"

api_patterns = [
    re_path(r"^/?$", versions.VersionShow.as_view()),
    # servers
    route(r"servers", servers.ServerList),
    route(r"servers/detail", servers.ServerDetailList),
    route(rf"servers/{ID}", servers.ServerItem),
    route(rf"servers/{ID}/action", servers.ServerActionView),
    route(rf"servers/{ID}/metadata", servers.ServerMetadataList),
    route(rf"servers/{ID}/metadata/(?P<key>[^/]+)", servers.ServerMetadataItem),
    route(rf"servers/{ID}/ips", servers.ServerIPs),
    route(rf"servers/{ID}/ips/(?P<network>[^/]+)", servers.ServerIPsByNetwork),
    route(rf"servers/{ID}/remote-consoles", server_extras.RemoteConsoles),
    route(rf"servers/{ID}/os-interface", interfaces.InterfaceList),
    route(rf"servers/{ID}/os-security-groups", security_groups.ServerGroups),
    route(r"os-security-groups", security_groups.GroupList),
    route(r"os-floating-ips", floating_ips.FloatingList),
    route(r"os-floating-ips/(?P<fip_id>[^/]+)", floating_ips.FloatingItem),
    route(r"os-floating-ip-pools", floating_ips.PoolList),
    route(r"os-tenant-networks", floating_ips.TenantNetworkList),
    route(r"os-tenant-networks/(?P<network_id>[^/]+)", floating_ips.TenantNetworkItem),
    route(r"os-security-groups/(?P<group_id>[^/]+)", security_groups.GroupItem),
    route(r"os-security-group-rules", security_groups.RuleList),
    route(r"os-security-group-rules/(?P<rule_id>[^/]+)", security_groups.RuleItem),
    route(rf"servers/{ID}/os-interface/(?P<port_id>[^/]+)", interfaces.InterfaceItem),
    route(rf"servers/{ID}/tags", server_extras.ServerTagList),
    route(rf"servers/{ID}/tags/(?P<tag>[^/]+)", server_extras.ServerTagItem),
    route(rf"servers/{ID}/os-instance-actions", instance_actions.InstanceActionList),
    route(rf"servers/{ID}/os-server-password", server_password.ServerPassword),
    route(rf"servers/{ID}/os-instance-actions/(?P<request_id>[^/]+)", instance_actions.InstanceActionItem),
    route(rf"servers/{ID}/os-volume_attachments", volume_attachments.VolumeAttachmentList),
    route(rf"servers/{ID}/os-volume_attachments/(?P<volume_id>[^/]+)", volume_attachments.VolumeAttachmentItem),
    # flavors, keypairs, limits, extensions, availability zones, the image proxy
    route(r"flavors", flavors.FlavorList),
    route(r"flavors/detail", flavors.FlavorDetailList),
    route(r"flavors/(?P<flavor_id>[^/]+)", flavors.FlavorItem),
    route(r"flavors/(?P<flavor_id>[^/]+)/action", flavors.FlavorAction),
    route(r"flavors/(?P<flavor_id>[^/]+)/os-flavor-access", flavors.FlavorAccessList),
    route(r"flavors/(?P<flavor_id>[^/]+)/os-extra_specs", flavors.FlavorExtraSpecs),
    route(r"flavors/(?P<flavor_id>[^/]+)/os-extra_specs/(?P<key>[^/]+)", flavors.FlavorExtraSpec),
    route(r"os-keypairs", keypairs.KeypairList),
    route(r"os-keypairs/(?P<name>[^/]+)", keypairs.KeypairItem),
    route(r"limits", limits.LimitsView),
    route(r"os-quota-sets/(?P<project_id>[^/]+)", quota_sets.QuotaSetItem),
    route(r"os-quota-sets/(?P<project_id>[^/]+)/detail", quota_sets.QuotaSetDetail),
    route(r"os-quota-sets/(?P<project_id>[^/]+)/defaults", quota_sets.QuotaSetDefaults),
    route(r"extensions", extensions.ExtensionList),
    route(r"extensions/(?P<alias>[^/]+)", extensions.ExtensionItem),
    route(r"os-availability-zone", availability_zones.AvailabilityZoneList),
    route(r"os-availability-zone/detail", availability_zones.AvailabilityZoneDetail),
    route(r"images", images.ImageList),
    route(r"images/detail", images.ImageDetailList),
    route(r"images/(?P<image_id>[^/]+)", images.ImageItem),
    route(r"images/(?P<image_id>[^/]+)/metadata", images.ImageMetadata),
    route(r"images/(?P<image_id>[^/]+)/metadata/(?P<key>[^/]+)", images.ImageMetadataItem),
    # no trailing slash: ``os-simple-tenant-usage/`` names an empty project, a 404 as in Nova
    re_path(r"^os-simple-tenant-usage$", usage.TenantUsageList.as_view()),
    route(r"os-simple-tenant-usage/(?P<project_id>[^/]+)", usage.TenantUsageItem),
    # admin: the Ganeti nodes as hypervisors and nova-compute services
    route(r"os-hypervisors", hypervisors.HypervisorList),
    route(r"os-hypervisors/detail", hypervisors.HypervisorDetailList),
    route(r"os-hypervisors/statistics", hypervisors.HypervisorStatistics),
    route(r"os-hypervisors/(?P<hypervisor_id>[^/]+)", hypervisors.HypervisorItem),
    route(r"os-hypervisors/(?P<hypervisor_id>[^/]+)/uptime", hypervisors.HypervisorUptime),
    route(r"os-hypervisors/(?P<pattern>[^/]+)/search", hypervisors.HypervisorSearch),
    route(r"os-hypervisors/(?P<pattern>[^/]+)/servers", hypervisors.HypervisorServers),
    route(r"os-migrations", migrations.MigrationList),
    route(r"os-aggregates", aggregates.AggregateList),
    route(r"os-aggregates/(?P<aggregate_id>[^/]+)", aggregates.AggregateItem),
    route(r"os-aggregates/(?P<aggregate_id>[^/]+)/action", aggregates.AggregateAction),
    route(r"os-server-groups", server_groups.ServerGroupList),
    route(r"os-server-groups/(?P<group_id>[^/]+)", server_groups.ServerGroupItem),
    route(r"os-services", services.ServiceList),
    route(r"os-services/(?P<service_id>[^/]+)", services.ServiceItem),
]

urlpatterns = [
    re_path(r"^/?$", versions.VersionList.as_view()),
    # /compute/v2.1 and /compute/v2.0 without a slash answer the version document too
    re_path(r"^/v2(?:\.[01])?$", versions.VersionShow.as_view()),
    path("/v2.1/", include(api_patterns)),
    path("/v2.0/", include(api_patterns)),
    path("/v2/", include(api_patterns)),
]
