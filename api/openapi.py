"""OpenAPI schema (drf-spectacular), served as JSON at ``/api/openapi.json``.

The views are OpenStack APIs written as plain DRF views (bodies are the OpenStack
envelopes, not serializers), so the generated schema names every path, method and
path parameter; this post-processing hook adds what the generator cannot see:

* the ``X-Auth-Token`` header as the security scheme (every API but version
  discovery and login needs it);
* a JSON object request body for every POST/PUT/PATCH that declares none, so that
  tools fuzzing the schema (schemathesis) send bodies;
* the microversion headers on compute operations.
"""

from __future__ import annotations

from typing import Any

BODY_METHODS = {"post", "put", "patch"}

MICROVERSION_HEADERS = [
    {
        "name": "OpenStack-API-Version",
        "in": "header",
        "required": False,
        "description": "Compute microversion, e.g. 'compute 2.1' (only /compute/v2.1).",
        "schema": {"type": "string"},
    },
    {
        "name": "X-OpenStack-Nova-API-Version",
        "in": "header",
        "required": False,
        "description": "Compute microversion, legacy header (e.g. '2.1').",
        "schema": {"type": "string"},
    },
]


def add_openstack_details(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    components = result.setdefault("components", {})
    components.setdefault("securitySchemes", {})["token"] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": "A token from POST /identity/v3/auth/tokens (X-Subject-Token) or /identity/v2.0/tokens.",
    }
    result["security"] = [{"token": []}, {}]
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            if method in BODY_METHODS and "requestBody" not in operation:
                operation["requestBody"] = {
                    "required": False,
                    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
                }
            if path.startswith("/compute/v2.1"):
                params = operation.setdefault("parameters", [])
                names = {p.get("name") for p in params}
                params.extend(h for h in MICROVERSION_HEADERS if h["name"] not in names)
    return result
