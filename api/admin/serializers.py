"""How the admin API shows each object (read shapes; changes go through ``logic``)."""

from __future__ import annotations

from datetime import UTC

from rest_framework import serializers

from logic import server_status
from logic.models import Backend, Flavor, Membership, Project, Server, User


def _iso(moment) -> str | None:
    """DRF's datetime output with ``TIME_ZONE = "UTC"`` (ISO 8601, ``Z``), without its per-call overhead."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ServerSerializer(serializers.ModelSerializer):
    """A server with its owner, placement and Ganeti job, for operators (one row, no extra queries)."""

    project_name = serializers.CharField(source="project.name", read_only=True)
    user_name = serializers.CharField(source="user.name", read_only=True)
    backend = serializers.CharField(source="backend.name", read_only=True, default=None)
    flavor = serializers.CharField(source="flavor.name", read_only=True)
    vcpus = serializers.IntegerField(source="flavor.vcpus", read_only=True)
    ram = serializers.IntegerField(source="flavor.ram", read_only=True)
    disk = serializers.IntegerField(source="flavor.disk", read_only=True)
    status = serializers.SerializerMethodField()
    ganeti_instance = serializers.CharField(source="ganeti_name", read_only=True)
    suspended = serializers.SerializerMethodField()
    suspension_reason = serializers.SerializerMethodField()

    class Meta:
        model = Server
        fields = [
            "id",
            "name",
            "status",
            "operstate",
            "task",
            "task_job_id",
            "suspended",
            "suspension_reason",
            "project",
            "project_name",
            "user",
            "user_name",
            "backend",
            "ganeti_instance",
            "flavor",
            "vcpus",
            "ram",
            "disk",
            "locked",
            "backend_job_id",
            "backend_opcode",
            "backend_jobstatus",
            "backendtime",
            "created_at",
            "updated_at",
            "launched_at",
            "terminated_at",
            "deleted",
        ]

    def to_representation(self, server: Server) -> dict:
        """The row by hand: the same keys and values as the declared fields, ~10x faster for 10,000-row pages."""
        suspension = self._suspension(server)
        backend = server.backend
        flavor = server.flavor
        return {
            "id": server.pk,
            "name": server.name,
            "status": server_status.server_status(server),
            "operstate": server.operstate,
            "task": server.task,
            "task_job_id": server.task_job_id,
            "suspended": suspension is not None,
            "suspension_reason": suspension.reason if suspension else None,
            "project": server.project_id,
            "project_name": server.project.name,
            "user": server.user_id,
            "user_name": server.user.name,
            "backend": backend.name if backend else None,
            "ganeti_instance": server.ganeti_name,
            "flavor": flavor.name,
            "vcpus": flavor.vcpus,
            "ram": flavor.ram,
            "disk": flavor.disk,
            "locked": server.locked,
            "backend_job_id": server.backend_job_id,
            "backend_opcode": server.backend_opcode,
            "backend_jobstatus": server.backend_jobstatus,
            "backendtime": _iso(server.backendtime),
            "created_at": _iso(server.created_at),
            "updated_at": _iso(server.updated_at),
            "launched_at": _iso(server.launched_at),
            "terminated_at": _iso(server.terminated_at),
            "deleted": server.deleted,
        }

    def get_status(self, server: Server) -> str:
        return server_status.server_status(server)

    def _suspension(self, server: Server):
        try:
            return server.suspension
        except Server.suspension.RelatedObjectDoesNotExist:
            return None

    def get_suspended(self, server: Server) -> bool:
        return self._suspension(server) is not None

    def get_suspension_reason(self, server: Server) -> str | None:
        suspension = self._suspension(server)
        return suspension.reason if suspension else None


class BackendSerializer(serializers.ModelSerializer):
    """A Ganeti cluster and its cached capacity (never its RAPI password)."""

    server_count = serializers.IntegerField(read_only=True)
    usable = serializers.BooleanField(read_only=True)

    class Meta:
        model = Backend
        fields = [
            "id",
            "name",
            "rapi_host",
            "rapi_port",
            "rapi_user",
            "hypervisor",
            "disk_templates",
            "drained",
            "offline",
            "usable",
            "server_count",
            "mem_total",
            "mem_free",
            "disk_total",
            "disk_free",
            "cpu_total",
            "cpu_free",
            "stats_updated_at",
            "created_at",
        ]


class FlavorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flavor
        fields = [
            "id",
            "name",
            "vcpus",
            "ram",
            "disk",
            "ephemeral",
            "swap",
            "disk_template",
            "is_public",
            "disabled",
            "description",
            "rxtx_factor",
            "extra_specs",
        ]


class MembershipSerializer(serializers.ModelSerializer):
    user_name = serializers.CharField(source="user.name", read_only=True)
    project_name = serializers.CharField(source="project.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user", "user_name", "project", "project_name", "role"]


class UserSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "name", "domain", "email", "enabled", "is_admin", "created_at", "memberships"]


class ProjectSerializer(serializers.ModelSerializer):
    memberships = MembershipSerializer(many=True, read_only=True)
    server_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = ["id", "name", "domain", "description", "enabled", "created_at", "server_count", "memberships"]


class SuspendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class MoveSerializer(serializers.Serializer):
    live = serializers.BooleanField(default=True)
    target_node = serializers.CharField(required=False)


class NodeRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["regular", "candidate", "drained", "offline"])


class NodeTagsSerializer(serializers.Serializer):
    tags = serializers.ListField(child=serializers.CharField(max_length=64))


class QuotaLimitsSerializer(serializers.Serializer):
    """``{"limits": {"cyclades.vm": 10, ...}, "user": optional id, "force": false}`` (null resets to the default)."""

    limits = serializers.DictField(child=serializers.IntegerField(allow_null=True, min_value=-1))
    user = serializers.CharField(required=False, allow_null=True)
    force = serializers.BooleanField(default=False)
