"""Flavor extra specs (Nova's ``os-extra_specs``): administrators set, change and remove them.

Keys are 1 to 255 of ``[a-zA-Z0-9-_:. ]``, values strings of at most 255 characters
(numbers and booleans are stored as their text, as Nova does). They are recorded and
shown (in flavors from 2.61, in servers' embedded flavor from 2.47); Ganeti placement
does not read them (a backend is chosen by capacity and disk template).
"""

from __future__ import annotations

import re

from django.db import transaction

from logic import flavor_spec_rules
from logic.errors import InvalidInput, NotFoundError
from logic.flavors import _require_admin, get_flavor
from logic.identity import AuthContext
from logic.models import Flavor

_KEY = re.compile(r"[a-zA-Z0-9\-_:. ]{1,255}")
MAX_VALUE = 255


def _value(key: str, value: object) -> str:
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str) or len(value) > MAX_VALUE:
        raise InvalidInput(f"Invalid input for extra spec {key!r}: a string of at most {MAX_VALUE} characters.")
    return value


def _validated(specs: object) -> dict[str, str]:
    if not isinstance(specs, dict):
        raise InvalidInput('The request body must be {"extra_specs": {key: value, ...}}.')
    result = {}
    for key, value in specs.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidInput(f"Invalid extra spec key {key!r}: 1 to 255 of letters, digits and '-_:. '.")
        result[key] = _value(key, value)
    return result


def _locked(ctx: AuthContext, flavor_id: object) -> Flavor:
    _require_admin(ctx)
    flavor = get_flavor(ctx, flavor_id)
    return Flavor.objects.select_for_update().get(pk=flavor.pk)


def set_specs(ctx: AuthContext, flavor_id: object, body: object, *, known: bool = False) -> dict[str, str]:
    """``POST``: add or replace the given keys; returns every extra spec.

    ``known`` (Nova 2.86): also validate the keys of Nova's known namespaces (:mod:`logic.flavor_spec_rules`).
    """
    if not isinstance(body, dict) or set(body) != {"extra_specs"}:
        raise InvalidInput('The request body must be {"extra_specs": {key: value, ...}}.')
    specs = _validated(body["extra_specs"])
    if known:
        flavor_spec_rules.validate(specs)
    with transaction.atomic():
        flavor = _locked(ctx, flavor_id)
        flavor.extra_specs = {**(flavor.extra_specs or {}), **specs}
        flavor.save(update_fields=["extra_specs"])
    return {str(k): str(v) for k, v in flavor.extra_specs.items()}


def update_spec(ctx: AuthContext, flavor_id: object, key: str, body: object, *, known: bool = False) -> dict[str, str]:
    """``PUT .../{key}`` with ``{key: value}``: exactly that one key (``known``: as :func:`set_specs`)."""
    if not isinstance(body, dict) or len(body) != 1:
        raise InvalidInput("The request body must hold exactly one extra spec.")
    if key not in body:
        raise InvalidInput("The request body key does not match the key in the URL.")
    spec = _validated(body)
    if known:
        flavor_spec_rules.validate(spec)
    with transaction.atomic():
        flavor = _locked(ctx, flavor_id)
        flavor.extra_specs = {**(flavor.extra_specs or {}), **spec}
        flavor.save(update_fields=["extra_specs"])
    return spec


def delete_spec(ctx: AuthContext, flavor_id: object, key: str) -> None:
    with transaction.atomic():
        flavor = _locked(ctx, flavor_id)
        specs = dict(flavor.extra_specs or {})
        if key not in specs:
            raise NotFoundError(f"Flavor {flavor_id} has no extra specs with key {key}.")
        del specs[key]
        flavor.extra_specs = specs
        flavor.save(update_fields=["extra_specs"])
