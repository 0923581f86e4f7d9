"""The shared base of the server views: rule errors as faults, shapes, request checks by microversion.

:class:`ServerView` knows what a strict-Nova body holds at the negotiated
microversion (:class:`api.compute.server_render.NovaShape`) and which request
fields and list filters that microversion admits.
"""

from __future__ import annotations

from contextlib import contextmanager

from api.auth import require_write
from api.compute import server_render as render
from api.compute.base import ComputeView, Microversion
from api.faults import BadRequest, Conflict, Forbidden, NotFound, NotImplementedFault, ServiceUnavailable
from api.renderers import FastJSONRenderer
from logic import consoles, server_rows
from logic import servers as rules
from logic.models import Flavor, Image
from logic.servers import nova_options

# Nova's [api] max_limit: a list never returns more than this per page.
MAX_LIMIT = 1000
# the list filters on tags (2.26)
TAG_FILTERS = frozenset({"tags", "tags-any", "not-tags", "not-tags-any"})
# request fields of create and rebuild newer than 2.58, by the version that brings them
LATER_CREATE_FIELDS = {"trusted_image_certificates": "2.63", "host": "2.74", "hypervisor_hostname": "2.74", "hostname": "2.90"}
LATER_REBUILD_FIELDS = {"trusted_image_certificates": "2.63", "hostname": "2.90"}
# the filters Nova opened to non-admins in 2.83 (the ones this cloud implements)
USER_FILTERS_2_83 = frozenset({"availability_zone", "key_name", "power_state", "task_state", "vm_state", "user_id"})
# every query parameter Nova's server list schema knows: from 2.75 any other is a 400 (before: ignored)
KNOWN_LIST_PARAMS = frozenset(
    [
        "user_id",
        "project_id",
        "tenant_id",
        "launch_index",
        "image_ref",
        "image",
        "kernel_id",
        "ramdisk_id",
        "hostname",
        "key_name",
        "power_state",
        "vm_state",
        "task_state",
        "host",
        "node",
        "flavor",
        "reservation_id",
        "launched_at",
        "terminated_at",
        "availability_zone",
        "name",
        "display_name",
        "description",
        "display_description",
        "locked_by",
        "uuid",
        "root_device_name",
        "config_drive",
        "access_ip_v4",
        "access_ip_v6",
        "auto_disk_config",
        "progress",
        "sort_key",
        "sort_dir",
        "all_tenants",
        "soft_deleted",
        "deleted",
        "status",
        "changes-since",
        "ip",
        "ip6",
        "created_at",
        "block_device_mapping",
        "services",
        "metadata",
        "system_metadata",
        "info_cache",
        "security_groups",
        "pci_devices",
        "limit",
        "marker",
        "tags",
        "tags-any",
        "not-tags",
        "not-tags-any",
        "changes-before",
        "locked",
    ]
)
# Nova's server statuses: from 2.38 a status filter outside them is a 400 (before: an empty list)
NOVA_STATUSES = frozenset(
    [
        "ACTIVE",
        "BUILD",
        "DELETED",
        "ERROR",
        "HARD_REBOOT",
        "MIGRATING",
        "PASSWORD",
        "PAUSED",
        "REBOOT",
        "REBUILD",
        "RESCUE",
        "RESIZE",
        "REVERT_RESIZE",
        "SHELVED",
        "SHELVED_OFFLOADED",
        "SHUTOFF",
        "SOFT_DELETED",
        "SUSPENDED",
        "UNKNOWN",
        "VERIFY_RESIZE",
    ]
)


@contextmanager
def rule_errors():
    """Turn the rules' errors into OpenStack faults."""
    try:
        yield
    except rules.Invalid as exc:
        raise BadRequest(str(exc)) from None
    except rules.Missing as exc:
        raise NotFound(str(exc)) from None
    except rules.Conflict as exc:
        raise Conflict(str(exc)) from None
    except rules.NotSupported as exc:
        raise NotImplementedFault(str(exc)) from None
    except consoles.ConsoleUnavailable as exc:
        raise ServiceUnavailable(str(exc)) from None


class ServerView(ComputeView):
    """Common helpers of the server views."""

    renderer_classes = [FastJSONRenderer]

    def link_builder(self) -> render.Links:
        """The request's link builder (built once: a page renders 1,000 servers with it)."""
        links = getattr(self, "_links", None)
        if links is None:
            links = self._links = render.Links(self.base_url(), self.personality.value)
        return links

    def ctx(self):
        return self.request.auth

    def request_id(self) -> str:
        return getattr(self.request._request, "request_id", "") or ""

    def writable(self):
        require_write(self.request.auth)
        return self.request.auth

    def server(self, server_id: str, **kwargs):
        with rule_errors():
            return rules.get_server(self.request.auth, server_id, include_deleted=self.is_synnefo, **kwargs)

    def with_tags(self) -> bool:
        return not self.is_synnefo and self.shape().tags

    def row(self, server_id: str):
        """The server as a row for rendering (NICs, metadata and, from 2.26, tags attached)."""
        with rule_errors():
            return rules.get_server_row(self.request.auth, server_id, include_deleted=self.is_synnefo, with_tags=self.with_tags())

    def shape(self) -> render.NovaShape:
        """What strict-Nova bodies hold at the negotiated microversion, for this caller."""
        shape = getattr(self, "_shape", None)
        if shape is None:
            shape = self._shape = render.NovaShape.of(self.request.microversion, admin=self.request.auth.is_admin)
        return shape

    def admin_facts(self, rows) -> dict[int, server_rows.AdminFacts]:
        """The admin-only facts of ``rows`` when the shape shows them (one query), else nothing."""
        if self.is_synnefo or not rows or not self.shape().needs_admin_facts:
            return {}
        return server_rows.admin_facts([row.pk for row in rows])

    def embedded_flavors(self, rows) -> dict[int, dict] | None:
        """The flavors of ``rows`` as servers embed them from 2.47 (one query), else None."""
        if self.is_synnefo or not rows or not self.shape().embedded_flavor:
            return None
        ids = {row.flavor_id for row in rows}
        return {flavor.pk: render.embedded_flavor(flavor) for flavor in Flavor.objects.filter(pk__in=ids)}

    def image_properties(self, rows) -> dict[str, dict] | None:
        """The properties of the images of ``rows`` as servers show them from 2.98 (one query), else None."""
        if self.is_synnefo or not rows or not self.shape().image_properties:
            return None
        ids = {row.image_id for row in rows if row.image_id}
        images = Image.objects.filter(pk__in=ids).values_list("id", "properties")
        return {str(pk): render.image_properties(properties) for pk, properties in images}

    def full(
        self, server, facts: dict | None = None, flavors: dict | None = None, images: dict | None = None, *, single: bool = True
    ) -> dict:
        """A whole server (``single``: one server's answer, not a list entry: 2.71's server groups)."""
        if self.is_synnefo:
            return render.synnefo_detail(server, self.link_builder())
        if facts is None:
            facts = self.admin_facts([server])
        if flavors is None:
            flavors = self.embedded_flavors([server])
        if images is None:
            images = self.image_properties([server])
        return render.nova_detail(server, self.link_builder(), self.shape(), facts.get(server.pk), flavors, images, single=single)

    def common(self, server) -> dict:
        """The update/rebuild answer: Synnefo's full server; Nova's common fields, or from 2.75 the whole server."""
        if self.is_synnefo:
            return render.synnefo_detail(server, self.link_builder())
        if self.shape().full_answers:
            return self.full(server)
        return render.nova_common(
            server,
            self.link_builder(),
            self.shape(),
            flavors=self.embedded_flavors([server]),
            images=self.image_properties([server]),
            single=True,
        )

    def versioned_fields(self, spec: object, fields: dict[str, str]) -> None:
        """400 for a request field newer than the negotiated microversion (``fields``: name -> version)."""
        if self.is_synnefo or not isinstance(spec, dict):
            return
        for name, version in fields.items():
            if name in spec and not self.mv(version):
                raise BadRequest(f"Invalid input for field/attribute {name}: it needs microversion {version} or later.")

    def removed_fields(self, spec: object, fields: dict[str, str]) -> None:
        """400 for a request field Nova removed at or before the negotiated microversion (name -> version)."""
        if self.is_synnefo or not isinstance(spec, dict):
            return
        for name, version in fields.items():
            if name in spec and self.mv(version):
                raise BadRequest(f"Invalid input for field/attribute {name}: it was removed in microversion {version}.")

    def check_create_networks(self, spec: object) -> None:
        """What a create request's ``networks`` and block devices may hold at this microversion.

        ``networks`` is required from 2.37, which also brings the ``"auto"``/``"none"``
        strings; device ``tag`` keys are accepted on networks at 2.32-2.36 and on block
        devices at 2.32, then on both from 2.42 (Nova lost them in between).
        """
        if self.is_synnefo or not isinstance(spec, dict):
            return
        networks = spec.get("networks")
        if self.mv("2.37"):
            if "networks" not in spec:
                raise BadRequest("Invalid input: 'networks' is a required property from microversion 2.37.")
        elif isinstance(networks, str):
            raise BadRequest(f"Invalid input for field/attribute networks: {networks!r} needs microversion 2.37.")
        version = self.request.microversion
        network_tags = Microversion(2, 32) <= version <= Microversion(2, 36) or version >= Microversion(2, 42)
        device_tags = version == Microversion(2, 32) or version >= Microversion(2, 42)
        for entries, allowed, what in (
            (networks, network_tags, "networks"),
            (spec.get("block_device_mapping_v2"), device_tags, "block_device_mapping_v2"),
        ):
            if not allowed and isinstance(entries, list) and any(isinstance(e, dict) and "tag" in e for e in entries):
                raise BadRequest(f"Invalid input for field/attribute {what}: 'tag' is not allowed at microversion {version}.")

    def check_later_fields(self, spec: object) -> None:
        """What 2.67, 2.74 and 2.90-2.93 add to a create/update/rebuild body beyond its presence.

        ``volume_type`` in block devices needs 2.67; ``host``/``hypervisor_hostname`` are for
        admins (403 otherwise, Nova's default policy); a hostname is one label of at most 63
        characters until 2.94 brings FQDNs.
        """
        if self.is_synnefo or not isinstance(spec, dict):
            return
        devices = spec.get("block_device_mapping_v2")
        if not self.mv("2.67") and isinstance(devices, list) and any(isinstance(d, dict) and "volume_type" in d for d in devices):
            raise BadRequest("Invalid input for field/attribute block_device_mapping_v2: 'volume_type' needs microversion 2.67.")
        if (spec.get("host") is not None or spec.get("hypervisor_hostname") is not None) and not self.request.auth.is_admin:
            raise Forbidden("Policy doesn't allow compute:servers:create:requested_destination to be performed.")
        if "hostname" in spec and not self.mv("2.94"):
            with rule_errors():
                nova_options.validate_hostname(spec["hostname"], fqdn=False)

    def list_params(self):
        """The list filters this caller may use at this microversion (Nova drops the others silently)."""
        params = self.request.query_params
        if self.is_synnefo:
            return params
        dropped = set()
        if not self.mv("2.5") and not self.request.auth.is_admin:
            dropped.add("ip6")  # non-admins may filter by IPv6 address from 2.5
        if not self.mv("2.73"):
            dropped.add("locked")  # the locked filter arrives in 2.73
        if not self.mv("2.26"):
            dropped |= TAG_FILTERS
        if not self.mv("2.66"):
            dropped.add("changes-before")
        if not self.mv("2.83") and not self.request.auth.is_admin:
            dropped |= USER_FILTERS_2_83  # admin-only filters before 2.83
        if self.mv("2.75") and (unknown := set(params) - KNOWN_LIST_PARAMS):
            raise BadRequest(
                f"Invalid input for query parameters: additional properties are not allowed ({', '.join(sorted(unknown))})."
            )
        if self.mv("2.38"):
            for status in params.getlist("status"):
                if status.upper() not in NOVA_STATUSES:
                    raise BadRequest(f"Invalid status value: {status!r}.")
        if not dropped & set(params):
            return params
        params = params.copy()
        for name in dropped:
            params.pop(name, None)
        return params

    def body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict):
            raise BadRequest("The request body must be a JSON object.")
        return data
