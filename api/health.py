"""A health check for load balancers and supervisors."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """200 when the database answers, 503 otherwise. No authentication, no side effects."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception as exc:  # report, don't crash: this is what the check is for
        return JsonResponse({"status": "error", "database": str(exc)}, status=503)
