"""Image members: an owner shares a ``shared`` image with other projects; each member accepts or rejects.

Glance's rules: only ``shared`` images have members; only the owner adds and removes
them; only the member sets its own status (``pending`` -> ``accepted``/``rejected``).
A member sees the image by id whatever its status, and in listings once accepted.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from logic import images as registry
from logic.errors import ConflictError, InvalidInput, NotFoundError, PolicyError
from logic.identity import AuthContext
from logic.models import Image, ImageMember

MAX_MEMBERS = 128


def _is_owner(ctx: AuthContext, image: Image) -> bool:
    return ctx.is_admin or (ctx.project is not None and image.owner_id == ctx.project.pk)


def _shared(image: Image) -> None:
    if image.visibility != Image.Visibility.SHARED:
        raise PolicyError(f"Only shared images have members; image {image.pk} is {image.visibility}.")


def list_members(ctx: AuthContext, image_id: object) -> list[ImageMember]:
    """The owner sees every member; a member sees only itself."""
    image = registry.get(ctx, image_id)
    _shared(image)
    members = image.members.order_by("created_at", "id")
    if not _is_owner(ctx, image):
        members = members.filter(member=str(ctx.project.pk) if ctx.project else "")
    return list(members)


def get_member(ctx: AuthContext, image_id: object, member_id: str) -> ImageMember:
    image = registry.get(ctx, image_id)
    _shared(image)
    if not _is_owner(ctx, image) and (ctx.project is None or str(ctx.project.pk) != member_id):
        raise NotFoundError(f"Member {member_id} not found for image {image.pk}.")
    member = image.members.filter(member=member_id).first()
    if member is None:
        raise NotFoundError(f"{member_id} is not a member of image {image.pk}.")
    return member


def add_member(ctx: AuthContext, image_id: object, member_id: object) -> ImageMember:
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow this operation: the reader role may only read.")
    if not isinstance(member_id, str) or not member_id or len(member_id) > 64:
        raise InvalidInput("A member id (the project id, 1-64 characters) is required.")
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=registry.owned(ctx, image_id).pk)
        _shared(image)
        if member_id == image.owner_id:
            raise InvalidInput("The owner of an image cannot be a member of it.")
        if image.members.filter(member=member_id).exists():
            raise ConflictError(f"{member_id} is already a member of image {image.pk}.")
        if image.members.count() >= MAX_MEMBERS:
            raise InvalidInput(f"Maximum number of image members ({MAX_MEMBERS}) exceeded.")
        try:
            with transaction.atomic():
                return ImageMember.objects.create(image=image, member=member_id)
        except IntegrityError:
            raise ConflictError(f"{member_id} is already a member of image {image.pk}.") from None


def set_status(ctx: AuthContext, image_id: object, member_id: str, status: object) -> ImageMember:
    """The member (only) accepts, rejects or resets its membership."""
    if status not in ImageMember.Status.values:
        raise InvalidInput(f"Invalid status {status!r}: one of {', '.join(ImageMember.Status.values)}.")
    image = registry.get(ctx, image_id)
    _shared(image)
    if ctx.project is None or str(ctx.project.pk) != member_id:
        if _is_owner(ctx, image) and not ctx.is_admin:
            raise PolicyError("Only the member itself may change its membership status.")
        if not ctx.is_admin:
            raise NotFoundError(f"Member {member_id} not found for image {image.pk}.")
    with transaction.atomic():
        member = ImageMember.objects.select_for_update().filter(image=image, member=member_id).first()
        if member is None:
            raise NotFoundError(f"{member_id} is not a member of image {image.pk}.")
        member.status = status
        member.save(update_fields=["status", "updated_at"])
    return member


def remove_member(ctx: AuthContext, image_id: object, member_id: str) -> None:
    if not ctx.can_write:
        raise PolicyError("Policy doesn't allow this operation: the reader role may only read.")
    image = registry.owned(ctx, image_id)
    _shared(image)
    deleted, _ = image.members.filter(member=member_id).delete()
    if not deleted:
        raise NotFoundError(f"{member_id} is not a member of image {image.pk}.")
