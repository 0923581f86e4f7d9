"""The product's settings: every setting, its default, its type and what it means.

Settings come from three layers, later ones winning:

1. the defaults below (``SETTINGS``);
2. the operator settings file: a Python file whose UPPERCASE names are settings,
   at the path in ``CYCLADES_SETTINGS`` or ``/etc/cyclades/settings.py`` when
   that exists;
3. environment variables ``CYCLADES_<NAME>``, parsed according to the setting's
   type (booleans: 1/0, true/false, yes/no, on/off; lists: comma separated;
   JSON for dicts).

Anything missing or invalid raises :class:`SettingsError` whose message names the
setting, so every process can stop with one clear line instead of a traceback.

This module imports nothing from Django: eventd and the Ganeti hooks use it too.
"""

from __future__ import annotations

import json
import os
import re
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SETTINGS_FILE = "/etc/cyclades/settings.py"
ENV_PREFIX = "CYCLADES_"
# Environment variables with the prefix that are not settings.
NOT_SETTINGS = {"CYCLADES_SETTINGS", "CYCLADES_REQUIRE_SERVICES"}


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean (true/false), got {value!r}")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    return int(value)


def _parse_float(value: Any) -> float:
    return float(value)


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return value


def _parse_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _parse_dict(value: Any) -> dict:
    if isinstance(value, dict):
        return value
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError("expected a JSON object")
    return parsed


PARSERS: dict[str, Callable[[Any], Any]] = {
    "bool": _parse_bool,
    "int": _parse_int,
    "float": _parse_float,
    "str": _parse_str,
    "list": _parse_list,
    "dict": _parse_dict,
}


@dataclass(frozen=True)
class Setting:
    """One setting: name (without prefix), type name, default, documentation."""

    name: str
    kind: str
    default: Any
    doc: str
    required: bool = False
    secret: bool = False
    validate: Callable[[Any], None] | None = None

    @property
    def env_name(self) -> str:
        return ENV_PREFIX + self.name


# --------------------------------------------------------------------- validators
DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}
BUS_SCHEMES = {"memory", "amqp", "amqps"}


def _check_database_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise ValueError(f"unknown database scheme {scheme!r} in {url!r}; use sqlite:///PATH or postgresql://USER@HOST/NAME")


def _check_bus_url(url: str) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in BUS_SCHEMES:
        raise ValueError(f"unknown message bus scheme {scheme!r} in {url!r}; use memory:// or amqp://USER:PASS@HOST/VHOST")


def _check_public_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"must be an absolute http(s) URL, got {url!r}")


def _one_of(*choices: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}; got {value!r}")

    return check


def _positive(value: Any) -> None:
    if value <= 0:
        raise ValueError(f"must be positive, got {value!r}")


def _mac_prefix(value: Any) -> None:
    if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){2}", str(value)) or int(str(value)[:2], 16) & 1:
        raise ValueError(f"must be three lower-case unicast octets like aa:01:00, got {value!r}")


def _bridge_prefix(value: Any) -> None:
    if not re.fullmatch(r"([a-z][a-z0-9]{0,4})?", str(value)):
        raise ValueError(f"must be empty or 1-5 characters of a-z, 0-9 starting with a letter, got {value!r}")


def _not_negative(value: Any) -> None:
    if value < 0:
        raise ValueError(f"must be zero or positive, got {value!r}")


def _secret_key(value: str) -> None:
    if len(value) < 32:
        raise ValueError("must be at least 32 characters long")


def _quota_limit(value: Any) -> None:
    if value < -1:
        raise ValueError(f"must be a limit (0 or more) or -1 for unlimited, got {value!r}")


# --------------------------------------------------------------------- the settings
SETTINGS: list[Setting] = [
    # -- core
    Setting("DEBUG", "bool", False, "Development mode: readable logs, Django debug pages. Never in production."),
    Setting(
        "SECRET_KEY",
        "str",
        None,
        "Secret used to sign and to derive encryption keys (at least 32 characters). Keep it private and stable: "
        "changing it makes stored RAPI passwords unreadable.",
        required=True,
        secret=True,
        validate=_secret_key,
    ),
    Setting("DATA_DIR", "str", "/var/lib/cyclades", "Directory for local state (SQLite database, spools, generated files)."),
    Setting(
        "DATABASE_URL",
        "str",
        "sqlite:///{DATA_DIR}/cyclades.sqlite3",
        "Database: sqlite:///PATH (embedded default) or postgresql://USER:PASS@HOST:PORT/NAME (production). "
        "'{DATA_DIR}' is replaced by DATA_DIR.",
        validate=_check_database_url,
    ),
    Setting(
        "DATABASE_CONN_MAX_AGE", "int", 60, "Seconds a database connection is kept open between requests (0 = close each time)."
    ),
    Setting(
        "BUS_URL",
        "str",
        "memory://",
        "Message bus: memory:// (in-process; all-in-one mode only) or amqp://USER:PASS@HOST:PORT/VHOST (RabbitMQ).",
        validate=_check_bus_url,
    ),
    Setting("ALLOWED_HOSTS", "list", ["*"], "Host names the API answers to (Django ALLOWED_HOSTS)."),
    Setting(
        "PUBLIC_URL",
        "str",
        "http://127.0.0.1:8080",
        "Base URL clients reach the API at (behind a proxy: the proxy's URL). The service catalog is built from it.",
        validate=_check_public_url,
    ),
    Setting("REGION", "str", "RegionOne", "Region name advertised in the service catalog."),
    # -- logging
    Setting(
        "LOG_FORMAT",
        "str",
        "json",
        "Log format: 'json' (one JSON object per line, for production) or 'text' (readable, for development).",
        validate=_one_of("json", "text"),
    ),
    Setting("LOG_LEVEL", "str", "INFO", "Log level.", validate=_one_of("DEBUG", "INFO", "WARNING", "ERROR")),
    # -- identity
    Setting("TOKEN_LIFETIME", "int", 86400, "Seconds a token issued at login stays valid.", validate=_positive),
    Setting(
        "LOGIN_FAILURE_WINDOW",
        "int",
        300,
        "Seconds over which failed logins are counted; a locked-out user or address may try again when the window "
        "that started at its first failure ends.",
        validate=_positive,
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_USER",
        "int",
        5,
        "Failed password logins for one user name within LOGIN_FAILURE_WINDOW after which its logins are refused.",
        validate=_positive,
    ),
    Setting(
        "LOGIN_MAX_FAILURES_PER_ADDRESS",
        "int",
        30,
        "Failed password logins from one client address within LOGIN_FAILURE_WINDOW after which its logins are refused.",
        validate=_positive,
    ),
    Setting(
        "TRUSTED_PROXY_COUNT",
        "int",
        0,
        "Reverse proxies in front of the API that append the client address to X-Forwarded-For. The client address "
        "(for login throttling) is taken that many entries from the right; 0 uses the TCP peer address.",
        validate=_not_negative,
    ),
    # -- ganeti
    Setting(
        "GANETI_PREFIX", "str", "snf", "Prefix of every Ganeti name the product creates: instances are <prefix>-<server id>."
    ),
    Setting(
        "RAPI_PASSWORD_KEY",
        "str",
        None,
        "Key that encrypts the stored RAPI passwords of backends: a Fernet key or any long passphrase. "
        "Unset: derived from SECRET_KEY.",
        secret=True,
    ),
    Setting(
        "RAPI_PASSWORD_OLD_KEYS",
        "list",
        [],
        "Previous values of RAPI_PASSWORD_KEY (or SECRET_KEY) that still decrypt stored passwords, for key rotation.",
        secret=True,
    ),
    Setting(
        "RAPI_TIMEOUT",
        "float",
        10.0,
        "Seconds a RAPI call may take, retries included, before it fails as unavailable.",
        validate=_positive,
    ),
    Setting("RAPI_READ_RETRIES", "int", 3, "Retries (with backoff) of a read-only RAPI call that found the RAPI unavailable."),
    Setting(
        "ALLOCATOR_STRATEGY",
        "str",
        "logic.allocator.most_free",
        "Dotted path of the function choosing a backend for a new server among those with room "
        "(logic.allocator.most_free spreads by free RAM/CPU/disk ratios; logic.allocator.fill_first packs).",
    ),
    Setting(
        "GANETI_SHUTDOWN_TIMEOUT",
        "int",
        60,
        "Seconds Ganeti waits for a guest to shut down cleanly before forcing it off (stop, soft reboot, delete).",
        validate=_positive,
    ),
    # -- libvirt backends (logic.drivers.libvirt)
    Setting(
        "LIBVIRT_TEMPLATE_DIR",
        "str",
        "",
        "Directory of the operator's domain XML templates (domain.xml, flavor-<flavor>.xml, backend-<backend>.xml), "
        "looked up before the built-in ones; checked at backend-add.",
    ),
    Setting(
        "LIBVIRT_DOMAIN_TYPE",
        "str",
        "qemu",
        "Domain type of servers on qemu:// libvirt hosts: qemu (TCG) or kvm.",
    ),
    Setting(
        "LIBVIRT_NETWORK",
        "str",
        "default",
        "libvirt network of a server's NIC on a libvirt host when its API network has no link (bridge).",
    ),
    Setting(
        "LIBVIRT_RBD_POOL",
        "str",
        "",
        "Ceph pool of the disks of servers on libvirt hosts (flavors with disk template rbd: clones of the "
        "image's protected snapshot, and their config drives); empty: IMAGE_RBD_POOL.",
    ),
    Setting(
        "LIBVIRT_RBD_USER",
        "str",
        "",
        "Ceph client id that makes those disks and that QEMU uses (a libvirt ceph secret 'cyclades client.<id>' "
        "is defined on each host from its keyring); empty: IMAGE_RBD_USER.",
    ),
    Setting(
        "LIBVIRT_RBD_CONF",
        "str",
        "",
        "ceph.conf naming the monitors and the keyring for those disks; empty: IMAGE_RBD_CONF.",
    ),
    Setting(
        "LIBVIRT_STORAGE_POOL",
        "str",
        "cyclades",
        "libvirt storage pool (a directory pool, defined on first use at LIBVIRT_DISK_DIR) of the qcow2 disks "
        "and config drives of servers of flavors with disk template file.",
    ),
    Setting(
        "LIBVIRT_DISK_DIR",
        "str",
        "/var/lib/cyclades/libvirt",
        "Directory of the LIBVIRT_STORAGE_POOL pool when the driver defines it.",
    ),
    Setting(
        "LIBVIRT_CONFIG_DRIVE",
        "str",
        "nocloud",
        "cloud-init config drive attached as a cdrom to servers with disks on libvirt hosts: nocloud (label cidata), "
        "configdrive (OpenStack's config-2) or none.",
        validate=_one_of("nocloud", "configdrive", "none"),
    ),
    # -- quotas (defaults of every project; per-project overrides: cyclades-manage quota-set, os-quota-sets API)
    Setting(
        "QUOTA_ENABLED",
        "bool",
        True,
        "Charge quotas and refuse actions over a limit. Off: nothing is counted or refused (benchmarks, emergencies); "
        "run 'cyclades-manage reconcile-quotas --fix' after turning it back on.",
    ),
    Setting("QUOTA_INSTANCES", "int", 10, "Default limit of servers per project (-1 = unlimited).", validate=_quota_limit),
    Setting(
        "QUOTA_CORES",
        "int",
        20,
        "Default limit of virtual CPUs of all servers of a project, running or not (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "QUOTA_RUNNING_CORES",
        "int",
        20,
        "Default limit of virtual CPUs of the running servers of a project (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "QUOTA_RAM",
        "int",
        51200,
        "Default limit of RAM in MiB of all servers of a project, running or not (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "QUOTA_RUNNING_RAM",
        "int",
        51200,
        "Default limit of RAM in MiB of the running servers of a project (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "QUOTA_DISK", "int", 1000, "Default limit of server disk in GiB per project (-1 = unlimited).", validate=_quota_limit
    ),
    Setting(
        "QUOTA_PRIVATE_NETWORKS",
        "int",
        5,
        "Default limit of private networks per project (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "QUOTA_FLOATING_IPS", "int", 10, "Default limit of floating IPs per project (-1 = unlimited).", validate=_quota_limit
    ),
    Setting("QUOTA_SUBNETS", "int", 100, "Default limit of subnets per project (-1 = unlimited).", validate=_quota_limit),
    Setting("QUOTA_PORTS", "int", 500, "Default limit of ports per project (-1 = unlimited).", validate=_quota_limit),
    Setting(
        "QUOTA_SECURITY_GROUPS",
        "int",
        10,
        "Default limit of security groups per project, its default group included (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting("QUOTA_VOLUMES", "int", 10, "Default limit of volumes per project (-1 = unlimited).", validate=_quota_limit),
    Setting(
        "QUOTA_VOLUME_GB", "int", 1000, "Default limit of volume size in GiB per project (-1 = unlimited).", validate=_quota_limit
    ),
    Setting(
        "QUOTA_VOLUME_SNAPSHOTS",
        "int",
        10,
        "Default limit of volume snapshots per project (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "VOLUME_DEFAULT_TYPE",
        "str",
        "__DEFAULT__",
        "Name of the volume type a volume gets when the request names none (Cinder's default_volume_type).",
    ),
    Setting("VOLUME_MAX_SIZE", "int", 1024, "Largest volume a request may ask for, in GiB."),
    Setting("VOLUME_RBD_POOL", "str", "rbd", "Ceph pool of volumes of the ext template (cyclades-rbd provider)."),
    Setting("VOLUME_RBD_CONF", "str", "/etc/ceph/ceph.conf", "ceph.conf of the volumes' Ceph cluster (always given)."),
    Setting("VOLUME_RBD_USER", "str", "admin", "Ceph client id for volumes (client.<id>; its keyring via ceph.conf)."),
    Setting("VOLUME_EXT_PROVIDER", "str", "cyclades-rbd", "Ganeti ExtStorage provider of the ext template's disks."),
    Setting("QUOTA_IMAGES", "int", 20, "Default limit of images per project (-1 = unlimited).", validate=_quota_limit),
    Setting(
        "QUOTA_KEY_PAIRS", "int", 100, "Limit of keypairs per user (-1 = unlimited); shown by /limits.", validate=_quota_limit
    ),
    # -- eventd (runs on the Ganeti master; Django-free) and the Ganeti hooks
    Setting("EVENTD_QUEUE_DIR", "str", "/var/lib/ganeti/queue", "Ganeti job queue directory eventd watches (job-N files)."),
    Setting(
        "EVENTD_SSCONF_DIR",
        "str",
        "/var/lib/ganeti",
        "Directory of Ganeti's ssconf_* files: eventd reads ssconf_master_node (publishes only on the master) "
        "and ssconf_cluster_name.",
    ),
    Setting(
        "EVENTD_CLUSTER_NAME",
        "str",
        "",
        "Cluster name put in every message and routing key (ganeti.<cluster>.op). Empty: read from ssconf_cluster_name.",
    ),
    Setting(
        "EVENTD_NODE_NAME",
        "str",
        "",
        "This node's Ganeti name, compared with ssconf_master_node. Empty: the host's fully qualified name.",
    ),
    Setting(
        "EVENTD_SPOOL_DIR",
        "str",
        "{DATA_DIR}/spool",
        "Directory of messages waiting for RabbitMQ (written by eventd while RabbitMQ is unreachable and by the "
        "Ganeti hooks; replayed in order). '{DATA_DIR}' is replaced by DATA_DIR.",
    ),
    Setting(
        "EVENTD_STATE_FILE",
        "str",
        "{DATA_DIR}/eventd-state.sqlite3",
        "SQLite file of the opcode statuses eventd already published (no republishing after a restart). "
        "'{DATA_DIR}' is replaced by DATA_DIR.",
    ),
    Setting(
        "EVENTD_STATE_RETENTION",
        "float",
        86400.0,
        "Seconds a finished job is remembered in the state file. A finished job that ended longer ago than this "
        "is never (re)published by the catch-up.",
        validate=_positive,
    ),
    Setting("EVENTD_HEARTBEAT_INTERVAL", "float", 30.0, "Seconds between eventd heartbeat messages (0 = none)."),
    Setting(
        "EVENTD_MASTER_CHECK_INTERVAL",
        "float",
        10.0,
        "Seconds between re-reads of ssconf_master_node (how fast eventd notices a master failover).",
        validate=_positive,
    ),
    Setting(
        "EVENTD_RETRY_INTERVAL",
        "float",
        2.0,
        "Seconds between reconnection attempts while RabbitMQ is unreachable (messages are spooled meanwhile).",
        validate=_positive,
    ),
    Setting(
        "EVENTD_RAPI_HOST",
        "str",
        "",
        "RAPI host eventd asks for an instance's live NICs/disks after create/startup/modify/reboot. "
        "Empty: no live query (messages carry only the job's fields).",
    ),
    Setting("EVENTD_RAPI_PORT", "int", 5080, "RAPI port for eventd's live queries.", validate=_positive),
    Setting("EVENTD_RAPI_USER", "str", "", "RAPI user for eventd's live queries (read-only access is enough)."),
    Setting("EVENTD_RAPI_PASSWORD_FILE", "str", "", "File holding the RAPI password for eventd's live queries."),
    Setting(
        "EVENTD_RAPI_CERT",
        "str",
        "",
        "PEM file of the cluster's RAPI certificate, pinned by eventd's live queries (e.g. /var/lib/ganeti/rapi.pem).",
    ),
    Setting("EVENTD_RAPI_TIMEOUT", "float", 5.0, "Seconds one live RAPI query of eventd may take.", validate=_positive),
    # -- dispatcher and reconciliation
    Setting(
        "DISPATCHER_PREFETCH",
        "int",
        20,
        "Messages a dispatcher holds unacknowledged at once (AMQP prefetch).",
        validate=_positive,
    ),
    Setting(
        "DISPATCHER_BATCH_SIZE",
        "int",
        100,
        "Most messages a dispatcher applies in one database transaction (acked together after its commit); "
        "1 applies them one by one. The prefetch is raised to at least this.",
        validate=_positive,
    ),
    Setting(
        "DISPATCHER_BATCH_WAIT",
        "float",
        0.0,
        "Seconds a dispatcher waits, from a batch's first message, for more to join it. 0: a batch is what has "
        "arrived (batches grow by themselves under load; waiting only added latency in benchmarks/pipeline.py).",
        validate=_not_negative,
    ),
    Setting(
        "HEARTBEAT_STALE_AFTER",
        "float",
        120.0,
        "Seconds without an eventd heartbeat after which queue-inspect reports a cluster's eventd as not alive.",
        validate=_positive,
    ),
    Setting(
        "RECONCILE_GRACE",
        "float",
        60.0,
        "Seconds a server may be missing from Ganeti right after it was created or its job ended before "
        "reconcile-servers calls it stale (jobs in flight are never judged).",
        validate=_positive,
    ),
    # -- VNC console: the authentication proxy (cyclades-vncauthproxy) and what the API tells clients
    Setting(
        "VNCAUTHPROXY_SECRET",
        "str",
        None,
        "Shared secret authenticating the API to the VNC proxy's control socket (at least 32 characters). "
        "Unset: read from VNCAUTHPROXY_SECRET_FILE; neither: consoles are not offered.",
        secret=True,
    ),
    Setting("VNCAUTHPROXY_SECRET_FILE", "str", "", "File holding VNCAUTHPROXY_SECRET (first line)."),
    Setting("VNCAUTHPROXY_CONTROL_HOST", "str", "127.0.0.1", "Address of the proxy's control socket (it listens there)."),
    Setting("VNCAUTHPROXY_CONTROL_PORT", "int", 24999, "Port of the proxy's control socket.", validate=_positive),
    Setting(
        "VNCAUTHPROXY_CONTROL_CERT",
        "str",
        "",
        "PEM certificate (chain) of the control socket: set it to speak TLS there; the API then verifies it against "
        "this same file.",
    ),
    Setting("VNCAUTHPROXY_CONTROL_KEY", "str", "", "PEM private key of VNCAUTHPROXY_CONTROL_CERT (if not in that file)."),
    Setting(
        "VNCAUTHPROXY_LISTEN_HOST", "str", "127.0.0.1", "Address the proxy's client ports and web port listen on (0.0.0.0: all)."
    ),
    Setting(
        "VNCAUTHPROXY_PORT_RANGE",
        "str",
        "5900-5999",
        "Ports (FIRST-LAST) the proxy opens for plain VNC clients, one per pending forwarding.",
    ),
    Setting(
        "VNCAUTHPROXY_WEB_PORT",
        "int",
        6080,
        "Port of the proxy's web listener: the noVNC page and its WebSocket (-1: none).",
    ),
    Setting(
        "VNCAUTHPROXY_WEB_DIR", "str", "", "Directory of the noVNC viewer page and its node_modules. Empty: the packaged one."
    ),
    Setting(
        "VNCAUTHPROXY_FORWARD_TTL",
        "float",
        30.0,
        "Seconds a console password or token stays usable (it is one-shot: the first client that authenticates uses it).",
        validate=_positive,
    ),
    Setting(
        "VNCAUTHPROXY_HANDSHAKE_TIMEOUT",
        "float",
        10.0,
        "Seconds a client has to finish the VNC (or WebSocket) handshake; a client that says nothing is dropped then.",
        validate=_positive,
    ),
    Setting(
        "VNCAUTHPROXY_IDLE_TIMEOUT",
        "float",
        900.0,
        "Seconds without traffic after which a console session is closed.",
        validate=_positive,
    ),
    Setting(
        "VNCAUTHPROXY_SESSION_TIMEOUT", "float", 28800.0, "Longest a console session may last, in seconds.", validate=_positive
    ),
    Setting("VNCAUTHPROXY_MAX_PENDING", "int", 1000, "Most forwardings waiting for their client at once.", validate=_positive),
    Setting("VNCAUTHPROXY_MAX_SESSIONS", "int", 500, "Most console sessions at once.", validate=_positive),
    Setting(
        "CONSOLE_PUBLIC_HOST",
        "str",
        "",
        "Host name VNC clients reach the proxy's ports at (Synnefo console action). Empty: the host of PUBLIC_URL.",
    ),
    Setting(
        "CONSOLE_URL",
        "str",
        "",
        "URL of the noVNC page the compute API hands out, without the token (e.g. https://cloud.example.org:6080/vnc.html). "
        "Empty: http://<host of PUBLIC_URL>:<VNCAUTHPROXY_WEB_PORT>/vnc.html.",
    ),
    Setting(
        "CONSOLE_GUEST_PASSWORD_FILE",
        "str",
        "",
        "File with the VNC password of the guests (Ganeti hvparam vnc_password_file), if the cluster sets one.",
    ),
    # -- images (Glance v2): where image data lives and how Ganeti deploys it
    Setting(
        "IMAGE_STORE",
        "str",
        "file",
        "Store for uploaded image data: file (IMAGE_FILE_DIR) or rbd (Ceph).",
        validate=_one_of("file", "rbd"),
    ),
    Setting("IMAGE_FILE_DIR", "str", "{DATA_DIR}/images", "Directory of the file store. '{DATA_DIR}' is replaced by DATA_DIR."),
    Setting("IMAGE_RBD_POOL", "str", "rbd", "Ceph pool of the rbd store."),
    Setting("IMAGE_RBD_CONF", "str", "/etc/ceph/ceph.conf", "ceph.conf of the rbd store (always given: no DNS lookups)."),
    Setting("IMAGE_RBD_USER", "str", "admin", "Ceph client id of the rbd store (client.<id>; its keyring via ceph.conf)."),
    Setting(
        "IMAGE_CHUNK_SIZE", "int", 1048576, "Bytes read and written at a time when streaming image data.", validate=_positive
    ),
    Setting(
        "QUOTA_IMAGE_BYTES",
        "int",
        107374182400,
        "Default limit of image data in bytes per project (-1 = unlimited).",
        validate=_quota_limit,
    ),
    Setting(
        "IMAGE_GANETI_OS",
        "str",
        "cyclades-image+default",
        "Ganeti OS (conf/ganeti-os/cyclades-image) that deploys uploaded images onto instance disks.",
    ),
    Setting(
        "IMAGE_FETCH_KEY_FILE",
        "str",
        "/etc/cyclades/image-fetch.key",
        "Key (shared by API nodes and Ganeti nodes) that signs one-time image fetches; ganeti-os-install creates it.",
    ),
    Setting(
        "IMAGE_IMPORT_DIR",
        "str",
        "",
        "Directory on the API server whose files admins may import as image data (empty: no local imports).",
    ),
    Setting("IMAGE_FETCH_URL", "str", "", "Base URL a Ganeti node fetches image data from (empty: PUBLIC_URL)."),
    Setting(
        "IMAGE_FETCH_TTL",
        "int",
        3600,
        "Seconds a one-time image fetch (or snapshot upload) grant given to Ganeti stays valid.",
        validate=_positive,
    ),
    Setting(
        "NETWORK_MAC_PREFIX",
        "str",
        "aa:01:00",
        "First three octets (xx:xx:xx) of the MACs of ports on networks without a mac_prefix of their own.",
        validate=_mac_prefix,
    ),
    Setting(
        "NETWORK_LINK",
        "str",
        "br0",
        "Ganeti NIC link (bridge) that networks made through the Neutron API are connected to in every node group "
        "(every external network, and every network when NETWORK_BRIDGE_PREFIX is empty).",
    ),
    Setting(
        "NETWORK_BRIDGE_PREFIX",
        "str",
        "",
        "Non-empty (1-5 of a-z, 0-9): every private or shared network gets a bridge of its own on the nodes, named "
        "this prefix + the start of the network's id (15 characters), made by the node hooks (cyclades-manage netagent "
        "--install-ifup --bridge-prefix); empty: all on NETWORK_LINK.",
        validate=_bridge_prefix,
    ),
]

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def _settings_file(environ: Mapping[str, str]) -> str | None:
    path = environ.get("CYCLADES_SETTINGS")
    if path:
        if not os.path.isfile(path):
            raise SettingsError(f"CYCLADES_SETTINGS: settings file {path!r} does not exist")
        return path
    return DEFAULT_SETTINGS_FILE if os.path.isfile(DEFAULT_SETTINGS_FILE) else None


def _read_settings_file(path: str) -> dict[str, Any]:
    try:
        namespace = runpy.run_path(path)
    except Exception as exc:  # the operator's file: report, don't trace back
        raise SettingsError(f"settings file {path}: {type(exc).__name__}: {exc}") from exc
    values = {k: v for k, v in namespace.items() if k.isupper()}
    unknown = sorted(set(values) - set(SETTINGS_BY_NAME))
    if unknown:
        raise SettingsError(f"settings file {path}: unknown setting(s) {', '.join(unknown)}")
    return values


def load(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return every setting's final value, validated, or raise SettingsError."""
    environ = os.environ if environ is None else environ
    raw: dict[str, tuple[Any, str]] = {s.name: (s.default, "default") for s in SETTINGS}
    path = _settings_file(environ)
    if path:
        for name, value in _read_settings_file(path).items():
            raw[name] = (value, f"settings file {path}")
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key in NOT_SETTINGS:
            continue
        name = key[len(ENV_PREFIX) :]
        if name in SETTINGS_BY_NAME:
            raw[name] = (value, f"environment variable {key}")

    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value, origin = raw[setting.name]
        if value is None or value == "":
            if setting.required:
                raise SettingsError(
                    f"{setting.env_name}: required setting {setting.name} is not set "
                    f"(set it in the environment or in {path or DEFAULT_SETTINGS_FILE})"
                )
            values[setting.name] = value
            continue
        try:
            parsed = PARSERS[setting.kind](value)
            if setting.validate:
                setting.validate(parsed)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise SettingsError(f"{setting.env_name}: invalid {setting.name} from {origin}: {exc}") from exc
        values[setting.name] = parsed

    if isinstance(values.get("DATABASE_URL"), str):
        values["DATABASE_URL"] = values["DATABASE_URL"].replace("{DATA_DIR}", values["DATA_DIR"])
    return values


def example_file() -> str:
    """The example operator settings file: every setting, commented, with its default.

    ``conf/settings.example.py`` is this text (``python -m cyclades.conf > conf/settings.example.py``).
    """
    import textwrap

    out = [
        '"""Example operator settings for Cyclades: copy to /etc/cyclades/settings.py and edit.',
        "",
        "Every setting can also be given as an environment variable CYCLADES_<NAME>, which wins",
        "over this file. Unknown names here are refused at start-up (typos are caught).",
        "Generated by: python -m cyclades.conf > conf/settings.example.py",
        '"""',
        "",
    ]
    for s in SETTINGS:
        out.extend("# " + line for line in textwrap.wrap(s.doc, 96))
        out.append(f"# type: {s.kind}; environment variable: {s.env_name}" + ("; REQUIRED" if s.required else ""))
        if s.required:
            out.append(f"# {s.name} = ...")
        else:
            out.append(f"# {s.name} = {s.default!r}")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(example_file(), end="")
