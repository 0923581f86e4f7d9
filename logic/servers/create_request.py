"""Parsing a create request (networks, block devices, counts) into a :class:`CreateRequest`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from logic import networks as network_rules
from logic.errors import NotFoundError
from logic.identity import AuthContext
from logic.ids import parse_uuid
from logic.models import Flavor, Image, Keypair, ServerGroup
from logic.servers import counts, nova_options, rebuild_options
from logic.servers.errors import Invalid

if TYPE_CHECKING:
    from logic.servers.boot_volume import BootVolume
from logic.servers.validation import (
    canonical_ip,
    generate_password,
    resolve_flavor,
    resolve_image,
    validate_description,
    validate_metadata,
    validate_name,
)


@dataclass
class NetworkRequest:
    """One requested NIC: a network (None: the cluster's default NIC) and an optional fixed IP."""

    network: object | None = None  # logic.models.networks.Network
    fixed_ip: str | None = None
    port: str | None = None

    def as_job_arg(self) -> dict:
        """The Ganeti NIC spec: the Ganeti network (IP from its pool) or the network's link/mode."""
        network = self.network
        spec: dict = {}
        if network is not None and network.ganeti_network:
            spec = {"network": network.ganeti_network, "ip": self.fixed_ip or "pool"}
        elif network is not None:
            spec = {"mode": network.ganeti_mode, **({"link": network.ganeti_link} if network.ganeti_link else {})}
            if self.fixed_ip:
                spec["ip"] = self.fixed_ip
        return spec


def parse_networks(ctx: AuthContext, networks: object) -> list[NetworkRequest]:
    """``networks``: "auto" (the default network), "none" (no NIC) or a list of {uuid, fixed_ip, port}."""
    if networks is None or networks == "auto":
        return [NetworkRequest(network=network_rules.default_for(ctx))]
    if networks == "none":
        return []
    if not isinstance(networks, list):
        raise Invalid("Invalid input for field/attribute networks: expected 'auto', 'none' or a list.")
    result = []
    for entry in networks:
        if not isinstance(entry, dict) or not set(entry) <= {"uuid", "fixed_ip", "port", "tag"}:
            raise Invalid(f"Invalid network entry {entry!r}: expected {{uuid, fixed_ip, port}}.")
        net, port, fixed = entry.get("uuid"), entry.get("port"), entry.get("fixed_ip")
        if net is None and port is None:
            raise Invalid(f"Invalid network entry {entry!r}: a uuid or a port is required.")
        for label, value in (("uuid", net), ("port", port)):
            if value is not None and parse_uuid(value) is None:
                raise Invalid(f"Bad networks format: network {label} {value!r} is not in proper format.")
        if port is not None:
            result.append(NetworkRequest(port=str(port)))  # checked (the caller's, not in use) when bound
            continue
        try:
            network = network_rules.get(ctx, net)
        except NotFoundError:
            raise Invalid(f"Network {net} could not be found.") from None
        if fixed is not None:
            fixed = canonical_ip(fixed, 6 if ":" in str(fixed) else 4, what="fixed_ip")
        result.append(NetworkRequest(network=network, fixed_ip=fixed or None))
    return result


def security_group_names(ctx: AuthContext, groups: object) -> list[str] | None:
    """The ids of the groups a create names (``[{"name": ...}]``, by name or id); 400 for unknown ones."""
    from logic.neutron import security_groups
    from logic.neutron.errors import NeutronNotFound

    if not groups:
        return None
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in groups):
        raise Invalid('Invalid input for field/attribute security_groups: expected [{"name": ...}].')
    if ctx.project is not None:
        security_groups.default_group(ctx.project)
    try:
        return [str(g.pk) for g in security_groups.for_port(ctx, ctx.project, [g["name"] for g in groups])]
    except NeutronNotFound as exc:
        raise Invalid(str(exc)) from None


def _image_from_bdm(bdm: object) -> str | None:
    """The image a ``block_device_mapping_v2`` boots from (image source, boot index 0, local), if any."""
    if bdm is None:
        return None
    if not isinstance(bdm, list) or not all(isinstance(d, dict) for d in bdm):
        raise Invalid("Invalid input for field/attribute block_device_mapping_v2: expected a list of objects.")
    for device in bdm:
        source = device.get("source_type")
        if device.get("destination_type") == "volume":
            if str(device.get("boot_index")) != "0":
                raise Invalid("Only the boot device (boot_index 0) may be a volume; attach other volumes afterwards.")
            continue
        if source not in (None, "image", "blank"):
            raise Invalid(f"Block device source_type {source!r} needs destination_type volume.")
        if device.get("destination_type") not in (None, "local"):
            raise Invalid(f"Block device destination_type {device.get('destination_type')!r} is not supported.")
        if source == "image" and str(device.get("boot_index", 0)) == "0":
            return device.get("uuid")
    return None


def _boot_volume(ctx: AuthContext, bdm: object, flavor: Flavor):
    """The boot volume (boot index 0, destination volume) of a ``block_device_mapping_v2``, if any."""
    if not isinstance(bdm, list):
        return None
    for device in bdm:
        if isinstance(device, dict) and device.get("destination_type") == "volume" and str(device.get("boot_index")) == "0":
            from logic.servers import boot_volume

            return boot_volume.parse(ctx, device, flavor)
    return None


@dataclass
class CreateRequest:
    """A validated server create request."""

    name: str
    flavor: Flavor
    image: Image
    metadata: dict[str, str] = field(default_factory=dict)
    keypair: Keypair | None = None
    networks: list[NetworkRequest] = field(default_factory=list)
    admin_pass: str = ""
    user_data: str | None = None
    access_ipv4: str = ""
    access_ipv6: str = ""
    description: str | None = None
    count: int = 1
    return_reservation_id: bool = False  # answer {"reservation_id": ...} instead of the server
    tags: list[str] = field(default_factory=list)  # from microversion 2.52
    security_groups: list[str] | None = None  # group ids for the new ports (None: the project's default)
    group: ServerGroup | None = None  # the server group of the ``group`` scheduler hint
    boot: BootVolume | None = None  # the boot disk is this RBD volume (boot from volume)
    hostname: str | None = None  # 2.90 (FQDN from 2.94): recorded for the guest's metadata
    pinned_availability_zone: str | None = None  # the zone asked for (2.96 shows it)
    scheduler_hints: dict = field(default_factory=dict)  # os:scheduler_hints (2.100 shows them)
    host: str | None = None  # 2.74, admins: the Ganeti cluster to build on


def parse_create(ctx: AuthContext, body: object) -> CreateRequest:
    """Validate a ``{"server": {...}}`` create body; 400 with the first problem found."""
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise Invalid('The request body must be {"server": {...}}.')
    spec = body["server"]
    if "name" not in spec:
        raise Invalid("Invalid input: 'name' is a required property.")
    name = validate_name(spec["name"])
    if "flavorRef" not in spec:
        raise Invalid("Invalid input: 'flavorRef' is a required property.")
    flavor = resolve_flavor(ctx, spec["flavorRef"])
    image_ref = spec.get("imageRef") or _image_from_bdm(spec.get("block_device_mapping_v2"))
    if spec.get("imageRef"):
        _image_from_bdm(spec.get("block_device_mapping_v2"))  # still validated
    boot = _boot_volume(ctx, spec.get("block_device_mapping_v2"), flavor)
    if boot is not None and not image_ref:
        image_ref = str(boot.image.pk) if boot.image else (boot.volume.image_ref or None)
        if not image_ref:
            raise Invalid(
                f"Volume {boot.volume.id} was not made from an image: Ganeti needs the image's OS definition to boot it."
            )
    if not image_ref:
        raise Invalid("An imageRef, an image block device or a boot volume (destination_type volume) is required.")
    image = resolve_image(ctx, image_ref)
    if image.min_ram and flavor.ram < image.min_ram:
        raise Invalid(f"Flavor's memory is too small for the requested image (needs {image.min_ram} MiB).")
    if image.min_disk and flavor.disk < image.min_disk:
        raise Invalid(f"Flavor's disk is too small for the requested image (needs {image.min_disk} GiB).")
    metadata = validate_metadata(spec.get("metadata") or {})
    keypair = None
    if spec.get("key_name") is not None:
        keypair = Keypair.objects.filter(user=ctx.user, name=spec["key_name"]).first()
        if keypair is None:
            raise Invalid(f"Invalid key_name provided: keypair {spec['key_name']!r} not found.")
    groups = security_group_names(ctx, spec.get("security_groups"))
    admin_pass = spec.get("adminPass")
    if admin_pass is not None and not isinstance(admin_pass, str):
        raise Invalid("Invalid input for field/attribute adminPass: it must be a string.")
    user_data = rebuild_options.validate_user_data(spec.get("user_data"))
    description = validate_description(spec.get("description"))
    _, count = counts.counts(spec)  # as many as max_count: quota and placement refuse the whole request
    from logic import server_groups  # it imports the models this package does

    hints = body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints"))
    group = server_groups.hinted_group(ctx, hints)
    if boot is not None and boot.source == "volume" and count > 1:
        raise Invalid("Several servers cannot boot from the same volume.")
    hostname = nova_options.validate_hostname(spec["hostname"], fqdn=True) if spec.get("hostname") is not None else None
    if hostname is not None and count > 1:
        raise Invalid("Invalid input for field/attribute hostname: it cannot be set when creating several servers.")
    nova_options.validate_trusted_certificates(spec.get("trusted_image_certificates"))
    return CreateRequest(
        name=name,
        flavor=flavor,
        image=image,
        metadata=metadata,
        keypair=keypair,
        networks=parse_networks(ctx, spec.get("networks")),
        security_groups=groups,
        admin_pass=admin_pass or generate_password(),
        user_data=user_data,
        access_ipv4=canonical_ip(spec.get("accessIPv4"), 4, what="accessIPv4"),
        access_ipv6=canonical_ip(spec.get("accessIPv6"), 6, what="accessIPv6"),
        description=description,
        count=count,
        return_reservation_id=counts.return_reservation_id(spec),
        tags=_tags(spec),
        group=group,
        boot=boot,
        hostname=hostname,
        pinned_availability_zone=nova_options.validate_availability_zone(spec.get("availability_zone")),
        scheduler_hints=nova_options.validate_scheduler_hints(
            body.get("os:scheduler_hints", body.get("OS-SCH-HNT:scheduler_hints"))
        ),
        host=nova_options.requested_host(ctx, spec.get("host"), spec.get("hypervisor_hostname")),
    )


def _tags(spec: dict) -> list[str]:
    """The server tags a create body gives (Nova 2.52: the 2.26 tag rules)."""
    if "tags" not in spec:
        return []
    from logic import server_tags  # it imports this package

    return server_tags.validate_tags(spec["tags"])
