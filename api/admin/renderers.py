"""MessagePack output (``Accept: application/msgpack``, or ``?format=msgpack``) with the msgpack library."""

from __future__ import annotations

import datetime
import decimal
import uuid

import msgpack
from rest_framework.renderers import BaseRenderer


def _default(value: object) -> object:
    """What msgpack cannot encode natively, as JSON would show it (ISO dates, strings)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if hasattr(value, "__str__"):  # lazy translation strings, error details
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


class MessagePackRenderer(BaseRenderer):
    media_type = "application/msgpack"
    format = "msgpack"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        return msgpack.packb(data, default=_default, use_bin_type=True, datetime=False)


class YAMLRenderer(BaseRenderer):
    """YAML (``Accept: application/yaml`` or ``?format=yaml``): what Puppet's ENC reads."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        import yaml

        if data is None:
            return b""
        return yaml.safe_dump(data, default_flow_style=False, sort_keys=True).encode()
