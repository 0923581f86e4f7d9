"""A JSON renderer for large responses: orjson instead of the standard library encoder.

Encoding a page of 1,000 servers (about 1 MB of JSON) takes ~40 ms with ``json``
and a few with orjson. Output is the same JSON: UTF-8, compact; types orjson does
not handle natively in the same way as DRF (datetimes, decimals, lazy strings...)
go through DRF's own encoder, and anything orjson refuses (non-string keys,
integers beyond 64 bits) falls back to DRF's renderer, as does a request for
indented output (``Accept: application/json; indent=4``).
"""

from __future__ import annotations

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_ENCODER = JSONEncoder()
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value: object) -> object:
    return _ENCODER.default(value)


class FastJSONRenderer(JSONRenderer):
    """DRF's JSON renderer with orjson doing the encoding."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            return orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)
