"""States, tasks, opcodes and job statuses: the one place they are spelled."""

from __future__ import annotations

from django.db import models

# Ganeti's disk template for instances without disks (nothing to allocate or reinstall).
DISKLESS = "diskless"


class OperState(models.TextChoices):
    """What Ganeti last reported about a server (Synnefo's operstate)."""

    BUILD = "BUILD"
    STARTED = "STARTED"
    STOPPED = "STOPPED"
    ERROR = "ERROR"
    DESTROYED = "DESTROYED"


class ServerTask(models.TextChoices):
    """The action the API issued and is waiting for (cleared when its job ends)."""

    BUILD = "BUILD"
    START = "START"
    STOP = "STOP"
    REBOOT_SOFT = "REBOOT_SOFT"
    REBOOT_HARD = "REBOOT_HARD"
    RESIZE = "RESIZE"
    REVERT_RESIZE = "REVERT_RESIZE"
    REBUILD = "REBUILD"
    DESTROY = "DESTROY"
    RENAME = "RENAME"


class OpCode(models.TextChoices):
    """Ganeti opcodes the product reacts to (``OP_ID`` in job files)."""

    INSTANCE_CREATE = "OP_INSTANCE_CREATE"
    INSTANCE_REMOVE = "OP_INSTANCE_REMOVE"
    INSTANCE_STARTUP = "OP_INSTANCE_STARTUP"
    INSTANCE_SHUTDOWN = "OP_INSTANCE_SHUTDOWN"
    INSTANCE_REBOOT = "OP_INSTANCE_REBOOT"
    INSTANCE_SET_PARAMS = "OP_INSTANCE_SET_PARAMS"
    INSTANCE_REINSTALL = "OP_INSTANCE_REINSTALL"
    INSTANCE_RENAME = "OP_INSTANCE_RENAME"
    INSTANCE_MIGRATE = "OP_INSTANCE_MIGRATE"
    INSTANCE_FAILOVER = "OP_INSTANCE_FAILOVER"
    INSTANCE_GROW_DISK = "OP_INSTANCE_GROW_DISK"
    BACKUP_EXPORT = "OP_BACKUP_EXPORT"
    NETWORK_ADD = "OP_NETWORK_ADD"
    NETWORK_REMOVE = "OP_NETWORK_REMOVE"
    NETWORK_CONNECT = "OP_NETWORK_CONNECT"
    NETWORK_DISCONNECT = "OP_NETWORK_DISCONNECT"
    NETWORK_SET_PARAMS = "OP_NETWORK_SET_PARAMS"


class JobStatus(models.TextChoices):
    """Ganeti's job/opcode statuses, spelled as Ganeti spells them (``canceled``)."""

    QUEUED = "queued"
    WAITING = "waiting"
    RUNNING = "running"
    CANCELING = "canceling"
    CANCELED = "canceled"
    SUCCESS = "success"
    ERROR = "error"

    @classmethod
    def finished(cls) -> set[str]:
        return {cls.SUCCESS, cls.ERROR, cls.CANCELED}


class Role(models.TextChoices):
    """Project roles: reader may read; member may act in its project; admin everywhere."""

    ADMIN = "admin"
    MEMBER = "member"
    READER = "reader"


class QuotaResource(models.TextChoices):
    """Resources a project (and a user within it) is charged for. RAM in MiB, disk in GiB.

    ``cpu`` and ``ram`` count only running servers; the ``total_*`` ones count every server.
    """

    SERVERS = "cyclades.vm"
    TOTAL_CPU = "cyclades.total_cpu"
    CPU = "cyclades.cpu"
    TOTAL_RAM = "cyclades.total_ram"
    RAM = "cyclades.ram"
    DISK = "cyclades.disk"
    PRIVATE_NETWORKS = "cyclades.network.private"
    FLOATING_IPS = "cyclades.floating_ip"
    SUBNETS = "cyclades.subnet"
    PORTS = "cyclades.port"
    SECURITY_GROUPS = "cyclades.security_group"
    VOLUMES = "cyclades.volume"
    VOLUME_GB = "cyclades.volume_gb"
    VOLUME_SNAPSHOTS = "cyclades.volume_snapshot"
    IMAGES = "cyclades.image"


class CommissionState(models.TextChoices):
    """A provisional quota charge: pending until its job ends, then accepted or released."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    RELEASED = "released"


class VolumeStatus(models.TextChoices):
    """A volume's Cinder status (Cinder spells them in lower case, ``in-use`` with a dash)."""

    CREATING = "creating"
    AVAILABLE = "available"
    RESERVED = "reserved"
    ATTACHING = "attaching"
    IN_USE = "in-use"
    DETACHING = "detaching"
    EXTENDING = "extending"
    DELETING = "deleting"
    ERROR = "error"
    ERROR_DELETING = "error_deleting"
    ERROR_EXTENDING = "error_extending"
    MAINTENANCE = "maintenance"


class VolumeTask(models.TextChoices):
    """The Ganeti job a volume waits for (cleared when the job ends)."""

    ATTACH = "ATTACH"
    DETACH = "DETACH"
    DELETE = "DELETE"


class VolumeAttachStatus(models.TextChoices):
    """Cinder's ``attach_status``: whether the volume is attached to a server."""

    DETACHED = "detached"
    ATTACHING = "attaching"
    ATTACHED = "attached"
    DETACHING = "detaching"
    ERROR_ATTACHING = "error_attaching"
    ERROR_DETACHING = "error_detaching"


#: Ganeti disk templates a volume type may name (``ext`` is our ExtStorage provider over librbd).
VOLUME_DISK_TEMPLATES = ("file", "sharedfile", "plain", "drbd", "ext")
