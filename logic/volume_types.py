"""Volume types: each names the Ganeti disk template its volumes live on.

Admins create and change types (``openstack volume type create --property
disk_template=plain fast``); everyone reads the public ones. The type named by the
``VOLUME_DEFAULT_TYPE`` setting (``__DEFAULT__``, created by the migration with the
``file`` template) is what a volume gets when the request names none.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction

from logic.enums import VOLUME_DISK_TEMPLATES
from logic.errors import ConflictError, InvalidInput, NotFoundError
from logic.identity import AuthContext
from logic.models import Volume, VolumeType

#: The extra spec that is the type's Ganeti disk template.
DISK_TEMPLATE_SPEC = "disk_template"


def default_type_name() -> str:
    return settings.CYCLADES.get("VOLUME_DEFAULT_TYPE", "__DEFAULT__")


def visible(ctx: AuthContext):
    """The types the caller may see (admins see the private ones too)."""
    default()
    types = VolumeType.objects.all()
    return types if ctx.is_admin else types.filter(is_public=True)


def get(ctx: AuthContext, type_id_or_name: str) -> VolumeType:
    """A type by id, or by name as Cinder also accepts; 404 when unknown or not visible."""
    types = visible(ctx)
    try:
        return types.get(pk=uuid.UUID(str(type_id_or_name)))
    except (ValueError, VolumeType.DoesNotExist):
        pass
    found = types.filter(name=type_id_or_name).first()
    if found is None:
        raise NotFoundError(f"Volume type {type_id_or_name} could not be found.")
    return found


def default() -> VolumeType:
    """The default type, created (public, ``file`` template) the first time it is needed, as Cinder's
    ``__DEFAULT__``; an admin may change its template while no volume uses it."""
    found = VolumeType.objects.filter(name=default_type_name()).first()
    if found is None:
        found, _ = VolumeType.objects.get_or_create(
            name=default_type_name(), defaults={"description": "Default Volume Type", "disk_template": "file"}
        )
    return found


def _check_template(value: object) -> str:
    if not isinstance(value, str) or value not in VOLUME_DISK_TEMPLATES:
        raise InvalidInput(f"Invalid disk_template {value!r}: must be one of {', '.join(VOLUME_DISK_TEMPLATES)}.")
    return value


def _check_specs(specs: object) -> dict[str, str]:
    if not isinstance(specs, Mapping):
        raise InvalidInput("extra_specs must be an object of key/value strings.")
    out = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise InvalidInput(f"Invalid extra spec key {key!r}.")
        if not isinstance(value, str | int | float | bool) or len(str(value)) > 255:
            raise InvalidInput(f"Invalid value for extra spec {key!r}.")
        out[key] = str(value)
    return out


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise InvalidInput("A volume type needs a name of 1 to 255 characters.")
    return name.strip()


def create(name: object, *, description: object = None, is_public: object = True, extra_specs: object = None) -> VolumeType:
    """A new type (admin). ``extra_specs["disk_template"]`` sets the template (default ``file``)."""
    name = _check_name(name)
    specs = _check_specs(extra_specs or {})
    template = _check_template(specs.pop(DISK_TEMPLATE_SPEC, "file"))
    if description is not None and (not isinstance(description, str) or len(description) > 255):
        raise InvalidInput("description must be a string of at most 255 characters.")
    if not isinstance(is_public, bool):
        raise InvalidInput("os-volume-type-access:is_public must be a boolean.")
    with transaction.atomic():
        if VolumeType.objects.filter(name=name).exists():
            raise ConflictError(f"Volume Type {name} already exists.")
        return VolumeType.objects.create(
            name=name, description=description, is_public=is_public, disk_template=template, extra_specs=specs
        )


def update(vtype: VolumeType, *, name: object = None, description: object = None, is_public: object = None) -> VolumeType:
    """Rename, describe or publish a type (admin)."""
    if name is not None:
        name = _check_name(name)
        if VolumeType.objects.filter(name=name).exclude(pk=vtype.pk).exists():
            raise ConflictError(f"Volume Type {name} already exists.")
        vtype.name = name
    if description is not None:
        if not isinstance(description, str) or len(description) > 255:
            raise InvalidInput("description must be a string of at most 255 characters.")
        vtype.description = description
    if is_public is not None:
        if not isinstance(is_public, bool):
            raise InvalidInput("is_public must be a boolean.")
        vtype.is_public = is_public
    vtype.save()
    return vtype


def specs(vtype: VolumeType) -> dict[str, str]:
    """The extra specs as clients see them: the admin's plus ``disk_template``."""
    return {**vtype.extra_specs, DISK_TEMPLATE_SPEC: vtype.disk_template}


def set_specs(vtype: VolumeType, new: object) -> dict[str, str]:
    """Add or change extra specs (admin); ``disk_template`` changes the template for new volumes only
    if no volume uses the type yet (a volume never moves between templates)."""
    new = _check_specs(new)
    with transaction.atomic():
        vtype = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        if DISK_TEMPLATE_SPEC in new:
            template = _check_template(new.pop(DISK_TEMPLATE_SPEC))
            if template != vtype.disk_template and Volume.objects.filter(volume_type=vtype, deleted=False).exists():
                raise InvalidInput(f"Volume type {vtype.name} is in use: its disk_template cannot change.")
            vtype.disk_template = template
        vtype.extra_specs = {**vtype.extra_specs, **new}
        vtype.save()
    return specs(vtype)


def unset_spec(vtype: VolumeType, key: str) -> None:
    """Remove one extra spec (admin); 404 if the type has no such key."""
    if key == DISK_TEMPLATE_SPEC:
        raise InvalidInput("disk_template cannot be removed; set another value instead.")
    with transaction.atomic():
        vtype = VolumeType.objects.select_for_update().get(pk=vtype.pk)
        if key not in vtype.extra_specs:
            raise NotFoundError(f"Volume Type {vtype.id} has no extra specs with key {key}.")
        vtype.extra_specs = {k: v for k, v in vtype.extra_specs.items() if k != key}
        vtype.save(update_fields=["extra_specs"])


def delete(vtype: VolumeType) -> None:
    """Remove a type (admin); refused while volumes use it, and for the default type."""
    if vtype.name == default_type_name():
        raise InvalidInput("The default volume type cannot be deleted.")
    with transaction.atomic():
        if Volume.objects.filter(volume_type=vtype, deleted=False).exists():
            raise InvalidInput(f"Target volume type {vtype.id} is still in use.")
        Volume.objects.filter(volume_type=vtype).update(volume_type=default())  # deleted rows keep a type
        vtype.delete()
