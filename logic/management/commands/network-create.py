"""``cyclades-manage network-create``: register a network servers can attach to; prints its id.

Until the network issue brings the Neutron write API, operators create the
public network (``--public``) and, for a project, its own networks here.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import networks
from logic.errors import LogicError
from logic.models import Project
from logic.models.networks import Network


class Command(BaseCommand):
    help = "Register a network (public, shared, or a project's); prints its id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--project", help="Owner project (id or name); omit for a cloud-wide network")
        parser.add_argument("--public", action="store_true", help="External network every project may attach to")
        parser.add_argument("--shared", action="store_true", help="Every project may attach")
        parser.add_argument("--link", default="", help="Ganeti NIC link (e.g. a bridge such as br-gnt)")
        parser.add_argument("--mode", default=Network.Mode.BRIDGED, choices=Network.Mode.values, help="Ganeti NIC mode")
        parser.add_argument("--ganeti-network", default="", help="Ganeti network the NICs join (with its IP pool)")
        parser.add_argument("--cidr", default="", help="IPv4 subnet, informational")
        parser.add_argument(
            "--if-missing", action="store_true", help="If the owner already has a network of this name, print its id"
        )

    def handle(self, *args, **opts):
        project = None
        if opts["project"]:
            project = Project.objects.filter(pk=opts["project"]).first() or Project.objects.filter(name=opts["project"]).first()
            if project is None:
                raise CommandError(f"--project {opts['project']!r}: no such project (id or name)")
        if opts["if_missing"]:
            existing = Network.objects.filter(name=opts["name"], project=project, deleted=False).first()
            if existing is not None:
                self.stdout.write(str(existing.pk))
                return
        try:
            network = networks.create(
                name=opts["name"],
                project=project,
                public=opts["public"],
                shared=opts["shared"],
                link=opts["link"],
                mode=opts["mode"],
                ganeti_network=opts["ganeti_network"],
                cidr=opts["cidr"],
            )
        except LogicError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(network.pk))
