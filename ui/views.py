"""The browser UI: one page (the single-page app) and its static files.

The page carries no data and no session: the app logs in against Keystone from the
browser and then talks only to the public APIs named in the token's catalog, with the
token in an ``X-Auth-Token`` header (never a cookie), so it can do nothing a client
cannot and there is nothing for a cross-site request to ride on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ui import assets

SCRIPTS = (
    "vendor/jquery.min.js",
    "js/strings.js",
    "js/api.js",
    "js/widgets.js",
    "js/session.js",
    "js/servers.js",
    "js/server_detail.js",
    "js/wizard.js",
    "js/resources.js",
    "js/network.js",
    "js/volumes.js",
    "js/app.js",
)
YEAR = 365 * 24 * 3600


def _public_origin() -> str:
    parts = urlsplit(settings.CYCLADES["PUBLIC_URL"])
    return f"{parts.scheme}://{parts.netloc}"


def _policy() -> str:
    origin = _public_origin()
    return (
        "default-src 'self'; "
        f"connect-src 'self' {origin}; "
        "img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The app's page: where Keystone is, and the versioned script and style URLs."""
    reload = settings.DEBUG
    if reload:
        assets.assets(reload=True)
    base = settings.CYCLADES["PUBLIC_URL"].rstrip("/")
    context = {
        "static": "/ui/static/",
        "css": assets.versioned("css/app.css"),
        "icon": assets.versioned("img/icon.svg"),
        "scripts": [assets.versioned(name) for name in SCRIPTS],
        "config": {"identity": f"{base}/identity/v3", "region": settings.CYCLADES["REGION"]},
    }
    response = render(request, "ui/index.html", context)
    response["Content-Security-Policy"] = _policy()
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def static(request: HttpRequest, name: str) -> HttpResponse:
    """One file of ``ui/static/ui`` by name, cached for a year (its URL carries its hash)."""
    asset = assets.assets().get(name)
    if asset is None:
        raise Http404(name)
    etag = f'"{asset.digest}"'
    if request.headers.get("If-None-Match") == etag:
        response: HttpResponse = HttpResponseNotModified()
    else:
        response = HttpResponse(asset.body, content_type=asset.content_type)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable" if request.GET.get("v") == asset.digest else "no-cache"
    response["X-Content-Type-Options"] = "nosniff"
    return response
