"""The Neutron side of networks: subnets, ports and their fixed IPs, security groups, floating IPs.

Our database is the source of truth for IP allocation: a fixed IP is an
:class:`IPAllocation` row, unique per subnet, so two concurrent allocations of
the same address cannot both commit. A floating IP holds its address through a
port of the external network owned by no project (``device_owner``
``network:floatingip``), as in Neutron.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class Subnet(models.Model):
    """An IPv4 or IPv6 range on a network, with its allocation pools and DHCP/RA settings."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey("logic.Network", on_delete=models.CASCADE, related_name="subnets")
    project = models.ForeignKey("logic.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    ip_version = models.PositiveSmallIntegerField(default=4)
    cidr = models.CharField(max_length=64)
    gateway_ip = models.GenericIPAddressField(null=True, blank=True)
    enable_dhcp = models.BooleanField(default=True)
    dns_nameservers = models.JSONField(default=list, blank=True)
    host_routes = models.JSONField(default=list, blank=True, help_text="[{destination, nexthop}]")
    allocation_pools = models.JSONField(default=list, blank=True, help_text="[{start, end}]")
    ipv6_address_mode = models.CharField(max_length=16, null=True, blank=True)
    ipv6_ra_mode = models.CharField(max_length=16, null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name or self.id} {self.cidr}"

    @property
    def is_slaac(self) -> bool:
        return self.ip_version == 6 and self.ipv6_address_mode in ("slaac", "dhcpv6-stateless")


class SecurityGroup(models.Model):
    """A project's security group; ``is_default`` marks the one every project gets (named ``default``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("logic.Project", on_delete=models.CASCADE, related_name="security_groups")
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    is_default = models.BooleanField(default=False)
    stateful = models.BooleanField(default=True)
    tags = models.JSONField(default=list, blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project"], condition=Q(is_default=True), name="one_default_security_group")
        ]


class SecurityGroupRule(models.Model):
    """One allow rule: direction, ethertype, protocol, port range and a remote CIDR or group."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.ForeignKey(SecurityGroup, on_delete=models.CASCADE, related_name="rules")
    project = models.ForeignKey("logic.Project", on_delete=models.CASCADE, related_name="+")
    direction = models.CharField(max_length=8)
    ethertype = models.CharField(max_length=4, default="IPv4")
    protocol = models.CharField(max_length=16, null=True, blank=True)
    port_range_min = models.PositiveIntegerField(null=True, blank=True)
    port_range_max = models.PositiveIntegerField(null=True, blank=True)
    remote_ip_prefix = models.CharField(max_length=64, null=True, blank=True)
    remote_group = models.ForeignKey(SecurityGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    description = models.CharField(max_length=255, blank=True, default="")
    revision_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]


class Port(models.Model):
    """A Neutron port: a MAC on a network with fixed IPs, maybe bound to a server (a Ganeti NIC)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    network = models.ForeignKey("logic.Network", on_delete=models.PROTECT, related_name="ports")
    project = models.ForeignKey(
        "logic.Project",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ports",
        help_text="NULL for the cloud's own ports (a floating IP's address holder).",
    )
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=255, blank=True, default="")
    mac = models.CharField(max_length=17, unique=True)
    admin_state_up = models.BooleanField(default=True)
    status = models.CharField(max_length=16, default="DOWN")
    device_id = models.CharField(max_length=255, blank=True, default="")
    device_owner = models.CharField(max_length=255, blank=True, default="")
    server = models.ForeignKey("logic.Server", null=True, blank=True, on_delete=models.SET_NULL, related_name="ports")
    made_for_server = models.BooleanField(default=False, help_text="Made by the compute API: deleted with its server.")
    port_security_enabled = models.BooleanField(default=True)
    security_groups = models.ManyToManyField(SecurityGroup, blank=True, related_name="ports")
    tags = models.JSONField(default=list, blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["device_id"]), models.Index(fields=["project", "network"])]


class IPAllocation(models.Model):
    """A fixed IP of a port on one of its network's subnets; unique per subnet."""

    port = models.ForeignKey(Port, on_delete=models.CASCADE, related_name="fixed_ips")
    subnet = models.ForeignKey(Subnet, on_delete=models.PROTECT, related_name="allocations")
    ip_address = models.GenericIPAddressField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["subnet", "ip_address"], name="ip_unique_per_subnet")]


class FloatingIP(models.Model):
    """An address of an external network a project holds, maybe associated with one of its ports."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey("logic.Project", on_delete=models.PROTECT, related_name="floating_ips")
    floating_network = models.ForeignKey("logic.Network", on_delete=models.PROTECT, related_name="floating_ips")
    floating_port = models.OneToOneField(Port, on_delete=models.PROTECT, related_name="floating_ip_held")
    floating_ip_address = models.GenericIPAddressField()
    port = models.ForeignKey(Port, null=True, blank=True, on_delete=models.SET_NULL, related_name="floating_ips")
    fixed_ip_address = models.GenericIPAddressField(null=True, blank=True)
    description = models.CharField(max_length=255, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    revision_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]


class BackendNetwork(models.Model):
    """A network's copy on one Ganeti cluster: the Ganeti network, and the node groups it is connected to.

    Made lazily when a port on the network first lands on the cluster. ``add_job_id``
    and ``connect_jobs`` ({group: job id}) are the jobs later jobs depend on until
    they are known to have succeeded (``state`` ACTIVE).
    """

    class State(models.TextChoices):
        PENDING = "PENDING"
        ACTIVE = "ACTIVE"
        ERROR = "ERROR"

    network = models.ForeignKey("logic.Network", on_delete=models.CASCADE, related_name="backend_networks")
    backend = models.ForeignKey("logic.Backend", on_delete=models.CASCADE, related_name="backend_networks")
    ganeti_name = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    add_job_id = models.BigIntegerField(null=True, blank=True)
    connect_jobs = models.JSONField(default=dict, blank=True, help_text="{node group: connect job id}")
    message = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "backend"], name="one_copy_per_backend")]
