"""Server rules: create, update, delete, actions, metadata, listing filters.

Every change follows the core loop (DESIGN.md): validate, write the intent (task
pending, an action-log row) in a transaction, submit the backend job through
:func:`logic.servers.submit.backend_jobs`, record the job id, return. The backend is
never polled here; what it reports comes back through the event pipeline
(``logic.events``).

Errors are :mod:`logic.errors` subclasses that the API maps to OpenStack faults
(400 :class:`Invalid`, 404 :class:`Missing`, 409 :class:`Conflict`, 501
:class:`NotSupported`, 403 for quotas). A rejected request changes nothing.

This package re-exports the names callers use; each module holds one responsibility.
"""

from __future__ import annotations

from logic.servers.actions import confirm_resize, reboot, rebuild, resize, revert_resize, set_lock, start, stop
from logic.servers.create_request import CreateRequest, NetworkRequest, parse_create, parse_networks
from logic.servers.errors import Conflict, Invalid, Missing, NotSupported
from logic.servers.lifecycle import create, delete, update
from logic.servers.listing import STATUS_NAMES, filter_servers, paginate, parse_changes_since, parse_limit, status_q
from logic.servers.lookup import check_unlocked, get_server, get_server_row, metadata_of, recently_deleted, visible_servers
from logic.servers.metadata import delete_metadata_item, set_metadata, set_metadata_item
from logic.servers.submit import backend_jobs, log_action, make_fault, submission_failed, submit_job
from logic.servers.validation import (
    DELETED_VISIBLE_FOR,
    METADATA_FIELD_MAX,
    METADATA_MAX_ITEMS,
    NAME_MAX,
    canonical_ip,
    generate_password,
    parse_server_id,
    ref_id,
    reservation_id,
    resolve_flavor,
    resolve_image,
    validate_description,
    validate_metadata,
    validate_name,
)

__all__ = [
    "Conflict",
    "CreateRequest",
    "DELETED_VISIBLE_FOR",
    "Invalid",
    "METADATA_FIELD_MAX",
    "METADATA_MAX_ITEMS",
    "Missing",
    "NAME_MAX",
    "NetworkRequest",
    "NotSupported",
    "STATUS_NAMES",
    "backend_jobs",
    "canonical_ip",
    "check_unlocked",
    "confirm_resize",
    "create",
    "delete",
    "delete_metadata_item",
    "filter_servers",
    "generate_password",
    "get_server",
    "get_server_row",
    "log_action",
    "make_fault",
    "metadata_of",
    "paginate",
    "parse_changes_since",
    "parse_create",
    "parse_limit",
    "parse_networks",
    "parse_server_id",
    "reboot",
    "rebuild",
    "recently_deleted",
    "ref_id",
    "reservation_id",
    "resize",
    "resolve_flavor",
    "resolve_image",
    "revert_resize",
    "set_lock",
    "set_metadata",
    "set_metadata_item",
    "start",
    "status_q",
    "stop",
    "submission_failed",
    "submit_job",
    "update",
    "validate_description",
    "validate_metadata",
    "validate_name",
    "visible_servers",
]
