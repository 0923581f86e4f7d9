"""``cyclades-manage image-import --path P --name N``: an image whose data is a file in ``IMAGE_IMPORT_DIR``.

The operator's way to bring an image from the API server's disk (nothing is fetched
from URLs): the path must resolve inside ``IMAGE_IMPORT_DIR`` (symlinks resolved; see
:mod:`logic.image_import`). The image is deployed by our OS definition like an upload.
Prints the image id; on any failure no image is left.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from logic import image_import, image_write
from logic.errors import LogicError
from logic.identity import AuthContext
from logic.image_data import IncompleteUpload
from logic.models import Image, Project, User


class Command(BaseCommand):
    help = "Import a file inside IMAGE_IMPORT_DIR as a new image; prints its id."

    def add_arguments(self, parser):
        parser.add_argument("--path", required=True, help="File inside IMAGE_IMPORT_DIR (no URLs)")
        parser.add_argument("--name", required=True)
        parser.add_argument("--visibility", default="public", choices=[v.value for v in Image.Visibility])
        parser.add_argument("--owner", help="Owner project (id or name; default: the first admin's project)")
        parser.add_argument("--disk-format", default="raw", choices=image_write.DISK_FORMATS)
        parser.add_argument("--container-format", default="bare", choices=image_write.CONTAINER_FORMATS)
        parser.add_argument("--min-disk", type=int, default=0, help="GiB")
        parser.add_argument("--min-ram", type=int, default=0, help="MiB")

    def handle(self, *args, **opts):
        admin = User.objects.filter(is_admin=True, enabled=True).order_by("created_at").first()
        if admin is None:
            raise CommandError("no active administrator to act as (cyclades-manage user-set-admin)")
        project = self._project(opts["owner"], admin)
        ctx = AuthContext(user=admin, project=project, roles=["admin"])
        try:
            os.close(image_import.open_local(opts["path"])[0])  # check the path before creating anything
        except LogicError as exc:
            raise CommandError(str(exc)) from None
        body = {
            "name": opts["name"], "visibility": opts["visibility"], "disk_format": opts["disk_format"],
            "container_format": opts["container_format"], "min_disk": opts["min_disk"], "min_ram": opts["min_ram"],
        }  # fmt: skip
        try:
            image = image_write.create(ctx, body)
        except LogicError as exc:
            raise CommandError(str(exc)) from None
        try:
            image = image_import.import_file(image, opts["path"])
        except (LogicError, IncompleteUpload, OSError) as exc:
            image_write.delete(ctx, image.pk)
            raise CommandError(f"import failed, image removed: {exc}") from None
        self.stdout.write(str(image.pk))

    def _project(self, owner: str | None, admin: User) -> Project:
        if owner:
            found = Project.objects.filter(pk=owner).first() if len(owner) == 32 else None
            found = found or Project.objects.filter(name=owner).first()
            if found is None:
                raise CommandError(f"--owner {owner!r}: no such project (id or name)")
            return found
        membership = admin.memberships.select_related("project").order_by("pk").first()
        if membership is None:
            raise CommandError("the administrator has no project: give --owner")
        return membership.project
