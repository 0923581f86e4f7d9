"""The raw request body as chunks, without ever reading it whole (uploads of any size)."""

from __future__ import annotations

from collections.abc import Iterator

from api.faults import BadRequest


def announced_size(request) -> int | None:
    """The body's length if the client said it (Content-Length, or the SDK's X-OpenStack-Image-Size)."""
    meta = request.META
    if "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        raw = meta.get("HTTP_X_OPENSTACK_IMAGE_SIZE")
    else:
        raw = meta.get("CONTENT_LENGTH") or meta.get("HTTP_X_OPENSTACK_IMAGE_SIZE")
    if raw in (None, ""):
        return None
    try:
        size = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid length {raw!r}.") from None
    if size < 0:
        raise BadRequest(f"Invalid length {raw!r}.")
    return size


def body_chunks(request, chunk_size: int) -> Iterator[bytes]:
    """Chunks of the body as they arrive: Django's length-limited stream, or the server's (chunked bodies).

    Django reads a body without Content-Length as empty; under a WSGI server that
    decodes ``Transfer-Encoding: chunked`` (gunicorn) the raw ``wsgi.input`` ends where
    the body ends.
    """
    django_request = getattr(request, "_request", request)
    if "chunked" in django_request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
        stream = django_request.META["wsgi.input"]
    else:
        stream = django_request
    while True:
        chunk = stream.read(chunk_size)
        if not chunk:
            return
        yield chunk
