"""``cyclades-manage image-register``: add an image that Ganeti deploys with an OS definition.

Upload and storage come with the image issue; until then an operator registers
images whose content the Ganeti OS definition provides (e.g. ``noop``,
``snf-image+default`` with ``img_id``/``img_format`` OS parameters).
Prints the image id.
"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from logic import images
from logic.errors import LogicError
from logic.models import Image, Project


def key_values(pairs: list[str], what: str) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CommandError(f"{what} {pair!r}: expected KEY=VALUE")
        out[key] = value
    return out


class Command(BaseCommand):
    help = "Register an image deployed by a Ganeti OS definition; prints its id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--os", required=True, dest="ganeti_os", help="Ganeti OS definition, e.g. noop or snf-image+default")
        parser.add_argument(
            "--osparam", action="append", default=[], metavar="KEY=VALUE", help="Ganeti OS parameter (repeatable)"
        )
        parser.add_argument("--property", action="append", default=[], metavar="KEY=VALUE", help="Image property (repeatable)")
        parser.add_argument("--id", dest="image_id", help="Use this UUID as the image id")
        parser.add_argument("--visibility", default="public", choices=[v.value for v in Image.Visibility])
        parser.add_argument("--owner", help="Owner project id (required unless public)")
        parser.add_argument("--disk-format", default="raw")
        parser.add_argument("--container-format", default="bare")
        parser.add_argument("--size", type=int, help="Size in bytes")
        parser.add_argument("--min-disk", type=int, default=0, help="GiB")
        parser.add_argument("--min-ram", type=int, default=0, help="MiB")
        parser.add_argument("--if-missing", action="store_true", help="If an image with this name exists, print its id and stop")

    def handle(self, *args, **opts):
        if opts["if_missing"]:
            existing = Image.objects.filter(name=opts["name"]).exclude(status="deleted").order_by("created_at").first()
            if existing is not None:
                self.stdout.write(str(existing.pk))
                return
        owner = None
        if opts["owner"]:
            owner = Project.objects.filter(pk=opts["owner"]).first() or Project.objects.filter(name=opts["owner"]).first()
            if owner is None:
                raise CommandError(f"--owner {opts['owner']!r}: no such project (id or name)")
        image_id = None
        if opts["image_id"]:
            try:
                image_id = uuid.UUID(opts["image_id"])
            except ValueError:
                raise CommandError(f"--id {opts['image_id']!r} is not a UUID") from None
        try:
            image = images.register(
                name=opts["name"],
                ganeti_os=opts["ganeti_os"],
                osparams=key_values(opts["osparam"], "--osparam"),
                properties=key_values(opts["property"], "--property"),
                visibility=opts["visibility"],
                owner=owner,
                disk_format=opts["disk_format"],
                container_format=opts["container_format"],
                size=opts["size"],
                min_disk=opts["min_disk"],
                min_ram=opts["min_ram"],
                image_id=image_id,
            )
        except LogicError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(str(image.pk))
