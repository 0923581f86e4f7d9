"""Structured logging with the OpenStack request id carried along.

The request id lives in a context variable: the API middleware sets it for each
request, and every log record made while that request is handled (API, logic,
RAPI calls) carries it. Daemons set it per message they handle.

Formats: ``json`` writes one JSON object per line (production); ``text`` writes
readable lines (development). Django-free so eventd and the hooks can use it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}


def new_request_id() -> str:
    """An id in OpenStack's format: ``req-<uuid4>``."""
    return f"req-{uuid.uuid4()}"


def current_request_id() -> str | None:
    return request_id_var.get()


@contextmanager
def request_context(request_id: str | None = None) -> Iterator[str]:
    """Run a block with a request id set (a new one unless given)."""
    rid = request_id or new_request_id()
    token = request_id_var.set(rid)
    try:
        yield rid
    finally:
        request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record as ``record.request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Readable lines for development: time level logger [request id] message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s %(rid)s%(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f"[{rid}] " if rid else ""
        return super().format(record)


def logging_config(fmt: str = "json", level: str = "INFO") -> dict:
    """A ``logging.config.dictConfig`` dict (Django's LOGGING uses it too)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "cyclades.logs.RequestIdFilter"}},
        "formatters": {
            "json": {"()": "cyclades.logs.JsonFormatter"},
            "text": {"()": "cyclades.logs.TextFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": fmt,
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # pika logs every failed connection attempt at ERROR; the bus reports them itself.
            "pika": {"level": "CRITICAL"},
            "urllib3": {"level": "WARNING"},
            "django.db.backends": {"level": "INFO"},
        },
    }


def setup(fmt: str = "json", level: str = "INFO") -> None:
    """Configure logging for a process that does not run Django's setup."""
    logging.config.dictConfig(logging_config(fmt, level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(exc_type, exc, tb) -> None:  # pragma: no cover - last resort
    logging.getLogger("cyclades").critical("uncaught exception", exc_info=(exc_type, exc, tb))
