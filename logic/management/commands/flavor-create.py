"""``cyclades-manage flavor-create``: add a flavor (with its Ganeti disk template); prints its id."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from logic import flavors
from logic.errors import LogicError
from logic.identity import AuthContext
from logic.models import Flavor, User


class Command(BaseCommand):
    help = "Create a flavor; prints its id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--vcpus", type=int, required=True)
        parser.add_argument("--ram", type=int, required=True, help="MiB")
        parser.add_argument("--disk", type=int, required=True, help="GiB")
        parser.add_argument("--id", dest="flavor_id", help="Integer id to use")
        parser.add_argument("--disk-template", default="diskless", help="Ganeti disk template (diskless, file, plain, drbd...)")
        parser.add_argument("--private", action="store_true", help="Not public (grant access with the API's os-flavor-access)")
        parser.add_argument("--if-missing", action="store_true", help="If a flavor of this name exists, print its id")

    def handle(self, *args, **opts):
        if opts["if_missing"]:
            existing = Flavor.objects.filter(name=opts["name"]).first()
            if existing is not None:
                self.stdout.write(str(existing.pk))
                return
        operator = AuthContext(user=User(name="operator", is_admin=True), project=None, roles=["admin"])
        try:
            flavor = flavors.create_flavor(
                operator,
                name=opts["name"],
                vcpus=opts["vcpus"],
                ram=opts["ram"],
                disk=opts["disk"],
                flavor_id=opts["flavor_id"],
                is_public=not opts["private"],
                disk_template=opts["disk_template"],
            )
        except LogicError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(flavor.pk))
