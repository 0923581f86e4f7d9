from django.conf import settings
from django.shortcuts import render


def index(request):
    """Landing page: what this is and where the APIs are."""
    base = settings.CYCLADES["PUBLIC_URL"].rstrip("/")
    endpoints = [
        ("Identity (Keystone v3, v2.0)", f"{base}/identity"),
        ("Compute (Nova v2.1, Synnefo v2.0)", f"{base}/compute"),
        ("Image (Glance v2)", f"{base}/image"),
        ("Network (Neutron v2.0)", f"{base}/network"),
        ("OpenAPI schema", f"{base}/api/openapi.json"),
    ]
    return render(request, "ui/index.html", {"endpoints": endpoints})
