"""Neutron's list conventions on rendered bodies: attribute filters, tag filters, ``fields``, sorting, paging.

Every attribute of a body is a filter (``?name=a&name=b`` means either);
``fixed_ips=ip_address=X`` / ``subnet_id=Y`` filter ports by address; ``tags``,
``tags-any``, ``not-tags``, ``not-tags-any`` take comma-separated tags.
Unknown parameters are ignored, as Neutron does without filter validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from logic.neutron.errors import NeutronBadRequest

_CONTROL = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse", "tags", "tags-any", "not-tags", "not-tags-any"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _matches(body: dict, key: str, wanted: list[str]) -> bool:
    value = body[key]
    if key == "fixed_ips":
        pairs = [w.split("=", 1) for w in wanted if "=" in w]
        return any(_text(ip.get(k)) == v for ip in value for k, v in pairs)
    if isinstance(value, list):
        return any(w in [_text(v) for v in value] for w in wanted)
    if isinstance(value, bool):
        return _text(value) in [w.lower() for w in wanted]
    return _text(value) in wanted


def _tags(params, bodies: list[dict]) -> list[dict]:
    def split(name: str) -> set[str]:
        return {t for v in params.getlist(name) for t in v.split(",") if t}

    rules: list[Callable[[set[str]], bool]] = []
    if all_of := split("tags"):
        rules.append(lambda tags: all_of <= tags)
    if any_of := split("tags-any"):
        rules.append(lambda tags: bool(any_of & tags))
    if none_of := split("not-tags"):
        rules.append(lambda tags: not none_of <= tags)
    if not_any := split("not-tags-any"):
        rules.append(lambda tags: not (not_any & tags))
    return [b for b in bodies if all(rule(set(b.get("tags", []))) for rule in rules)]


def apply(request, bodies: list[dict], collection: str) -> dict:
    """``{collection: [...]}`` (plus ``<collection>_links`` when paged) after Neutron's query conventions."""
    params = request.query_params
    for key in params:
        if key in _CONTROL or not bodies or key not in bodies[0]:
            continue
        bodies = [b for b in bodies if _matches(b, key, params.getlist(key))]
    bodies = _tags(params, bodies)
    bodies = _sort(params, bodies)
    page, links = _page(request, bodies, collection)
    wanted = params.getlist("fields")
    out: dict = {collection: [{k: v for k, v in b.items() if k in wanted} if wanted else b for b in page]}
    if links:
        out[f"{collection}_links"] = links
    return out


def _sort(params, bodies: list[dict]) -> list[dict]:
    keys, dirs = params.getlist("sort_key"), params.getlist("sort_dir")
    if not keys:
        return bodies
    if dirs and len(dirs) != len(keys):
        raise NeutronBadRequest("The number of sort_keys and sort_dirs must be same", "HTTPBadRequest")
    for index in range(len(keys) - 1, -1, -1):
        key, direction = keys[index], (dirs[index] if dirs else "asc")
        if direction not in ("asc", "desc"):
            raise NeutronBadRequest(
                f"{direction} is invalid value for sort_dir, valid value is 'asc' and 'desc'", "HTTPBadRequest"
            )
        if bodies and key not in bodies[0]:
            raise NeutronBadRequest(f"{key} is an invalid attribute for sort_keys", "HTTPBadRequest")
        bodies = sorted(bodies, key=lambda b: (b[key] is None, _text(b[key])), reverse=direction == "desc")
    return bodies


def _page(request, bodies: list[dict], collection: str) -> tuple[list[dict], list[dict]]:
    params = request.query_params
    marker, limit_text = params.get("marker"), params.get("limit")
    if marker:
        ids = [b["id"] for b in bodies]
        bodies = bodies[ids.index(marker) + 1 :] if marker in ids else bodies
    if not limit_text:
        return bodies, []
    try:
        limit = int(limit_text)
    except ValueError:
        raise NeutronBadRequest(f"Invalid input for limit. Reason: '{limit_text}' is not an integer.", "HTTPBadRequest") from None
    if limit <= 0:
        return bodies, []
    page = bodies[:limit]
    links: list[dict] = []
    if len(bodies) > limit and page:
        query = params.copy()
        query["marker"] = page[-1]["id"]
        links.append({"rel": "next", "href": request.build_absolute_uri(request.path) + "?" + query.urlencode()})
    return page, links
