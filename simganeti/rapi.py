"""The HTTPS server speaking Ganeti 3.0's RAPI (the subset the product uses).

Same paths, methods, bodies, status codes and error shape as the real one:
``{"code": N, "message": <HTML-escaped text>, "explain": <reason phrase>}``;
every request needs HTTP basic auth; bodies must be ``application/json``.
Writes answer a job id at once; the job runs in the background.

Not part of Ganeti: ``/simganeti/...`` admin endpoints for fault injection.
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import logging
import re
import ssl
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from simganeti import opdefs

if TYPE_CHECKING:
    from simganeti.master import SimGaneti

log = logging.getLogger("simganeti.rapi")

WAIT_TIMEOUT = 10.0
FEATURES = ["node-evac-res1", "node-migrate-reqv1", "instance-create-reqv1", "instance-reinstall-reqv1"]
REBOOT_TYPES = {"soft", "hard", "full"}


class HttpError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message if message is not None else HTTPStatus(code).phrase


def _invalid(op_id: str, param: str) -> HttpError:
    return HttpError(400, f"Invalid body parameters: (\"Parameter '{op_id}.{param}' fails validation\", 'wrong_input')")


# Light type checks of the parameters the product sends (Ganeti checks them all).
_PARAM_TYPES: dict[str, type | tuple[type, ...]] = {
    "instance_name": str,
    "network_name": str,
    "new_name": str,
    "os_type": str,
    "disk_template": str,
    "mode": str,
    "disks": list,
    "nics": list,
    "beparams": dict,
    "hvparams": dict,
    "osparams": dict,
    "tags": list,
    "timeout": int,
    "shutdown_timeout": int,
    "start": bool,
    "name_check": bool,
    "ip_check": bool,
    "conflicts_check": bool,
    "no_remember": bool,
    "force": bool,
    "hotplug": bool,
    "hotplug_if_possible": bool,
    "network": str,
    "gateway": (str, type(None)),
    "mac_prefix": (str, type(None)),
    "group_name": str,
    "network_mode": str,
    "network_link": str,
    "network_vlan": str,
    "pnode": (str, type(None)),
    "iallocator": (str, type(None)),
}
_REQUIRED = {
    "OP_INSTANCE_CREATE": ("instance_name", "mode", "disks", "nics", "disk_template"),
    "OP_NETWORK_ADD": ("network_name", "network"),
    "OP_INSTANCE_RENAME": ("new_name",),
    "OP_NETWORK_CONNECT": ("group_name", "network_mode", "network_link"),
    "OP_NETWORK_DISCONNECT": ("group_name",),
}


def _job_dependencies(value: Any) -> list[list[Any]] | None:
    """Ganeti's ``depends``: ``[[job id, [status, ...]], ...]`` (absolute ids; relative ones need a
    multi-job submission, which RAPI has not)."""
    if value is None:
        return None
    valid = isinstance(value, list) and all(
        isinstance(d, list)
        and len(d) == 2
        and type(d[0]) is int
        and d[0] >= 0
        and isinstance(d[1], list)
        and all(s in ("success", "error", "canceled") for s in d[1])
        for d in value
    )
    if not valid:
        raise HttpError(400, "Invalid body parameters: parameter 'depends' fails validation")
    return [[d[0], list(d[1])] for d in value] or None


def validate(op_id: str, params: dict[str, Any]) -> None:
    """Refuse what Ganeti refuses at submission: unknown or ill-typed parameters."""
    opdef = opdefs.BY_ID[op_id]
    known = {name for name, _ in opdef.params}
    cls_name = "Op" + "".join(part.capitalize() for part in op_id[3:].split("_"))
    for key in params:
        if key == "dry_run":
            raise HttpError(400, "Can't overwrite static parameters {'dry_run'}")
        if key not in known:
            raise HttpError(400, f"Invalid body parameters: Object {cls_name} doesn't support the parameter '{key}'")
    for key in _REQUIRED.get(op_id, ()):
        if params.get(key) is None:
            raise _invalid(op_id, key)
    for key, value in params.items():
        expected = _PARAM_TYPES.get(key)
        if expected is int and isinstance(value, bool):
            raise _invalid(op_id, key)
        if expected and not isinstance(value, expected):
            raise _invalid(op_id, key)
    if op_id == "OP_INSTANCE_CREATE" and params.get("mode") not in ("create", "import", "remote-import"):
        raise _invalid(op_id, "mode")
    if op_id == "OP_INSTANCE_REBOOT" and params.get("reboot_type") not in REBOOT_TYPES:
        raise _invalid(op_id, "reboot_type")
    for key in ("disks", "nics"):
        if op_id == "OP_INSTANCE_CREATE" and any(not isinstance(x, dict) for x in params.get(key) or []):
            raise _invalid(op_id, key)


Route = tuple[str, "re.Pattern[str]", Callable[..., Any]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "Ganeti 3.0.2 (simulated)"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # every method goes through one dispatcher
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        sim = self.server.sim
        split = urlsplit(self.path)
        path, query = split.path, parse_qs(split.query, keep_blank_values=True)
        admin = path.startswith("/simganeti/")
        if sim.faults.rapi_unavailable and not admin:
            self.close_connection = True
            self.connection.close()  # no answer at all: the client sees a dropped connection
            return
        try:
            self._check_auth()
            body = self._read_body(method)
            result = self.server.api.route(method, path, query, body)
            self._send(200, result)
        except HttpError as exc:
            headers = {"WWW-Authenticate": 'Basic realm="Ganeti Remote API"'} if exc.code == 401 else {}
            payload = {"code": exc.code, "message": html.escape(exc.message), "explain": HTTPStatus(exc.code).description}
            self._send(exc.code, payload, headers)
        except Exception:
            log.exception("simulated RAPI failed on %s %s", method, self.path)
            payload = {"code": 500, "message": "Internal error", "explain": HTTPStatus(500).description}
            self._send(500, payload)

    def _check_auth(self) -> None:
        header = self.headers.get("Authorization", "")
        user, password = self.server.sim.credentials
        if header.startswith("Basic "):
            try:
                given = base64.b64decode(header[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                given = ""
            if hmac.compare_digest(given, f"{user}:{password}"):
                return
        raise HttpError(401)

    def _read_body(self, method: str) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/json":
            raise HttpError(415)
        try:
            return json.loads(raw)
        except ValueError:
            raise HttpError(400, "Unable to parse JSON data") from None

    def _send(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sim: SimGaneti, api: RapiApi, tls: ssl.SSLContext) -> None:
        self.sim = sim
        self.api = api
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self):  # TLS per connection, handshake in the handler thread
        sock, addr = self.socket.accept()
        return self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address) -> None:
        log.debug("connection from %s ended badly", client_address, exc_info=True)


class RapiApi:
    """Routing and the meaning of each RAPI resource."""

    def __init__(self, sim: SimGaneti) -> None:
        self.sim = sim
        n = r"(?P<name>[^/]+)"
        self.routes: list[tuple[re.Pattern[str], dict[str, Callable[..., Any]]]] = [
            (re.compile(r"/version"), {"GET": lambda **kw: 2}),
            (re.compile(r"/2/info"), {"GET": self.info}),
            (re.compile(r"/2/features"), {"GET": lambda **kw: list(FEATURES)}),
            (re.compile(r"/2/os"), {"GET": lambda **kw: list(self.sim.cluster.os_list)}),
            (re.compile(r"/2/instances"), {"GET": self.instances, "POST": self.instance_create}),
            (re.compile(rf"/2/instances/{n}"), {"GET": self.instance, "DELETE": self.instance_remove}),
            (re.compile(rf"/2/instances/{n}/startup"), {"PUT": self.instance_startup}),
            (re.compile(rf"/2/instances/{n}/shutdown"), {"PUT": self.instance_shutdown}),
            (re.compile(rf"/2/instances/{n}/reboot"), {"POST": self.instance_reboot}),
            (re.compile(rf"/2/instances/{n}/modify"), {"PUT": self.instance_modify}),
            (re.compile(rf"/2/instances/{n}/reinstall"), {"POST": self.instance_reinstall}),
            (re.compile(rf"/2/instances/{n}/rename"), {"PUT": self.instance_rename}),
            (re.compile(rf"/2/instances/{n}/console"), {"GET": self.instance_console}),
            (
                re.compile(rf"/2/instances/{n}/tags"),
                {"GET": self.instance_tags, "PUT": self.instance_tags_add, "DELETE": self.instance_tags_del},
            ),
            (re.compile(r"/2/networks"), {"GET": self.networks, "POST": self.network_add}),
            (re.compile(rf"/2/networks/{n}"), {"GET": self.network, "DELETE": self.network_remove}),
            (re.compile(rf"/2/networks/{n}/connect"), {"PUT": self.network_connect}),
            (re.compile(rf"/2/networks/{n}/disconnect"), {"PUT": self.network_disconnect}),
            (
                re.compile(rf"/2/networks/{n}/tags"),
                {"GET": self.network_tags, "PUT": self.network_tags_add, "DELETE": self.network_tags_del},
            ),
            (re.compile(r"/2/nodes"), {"GET": self.nodes}),
            (re.compile(rf"/2/nodes/{n}"), {"GET": self.node}),
            (re.compile(r"/2/groups"), {"GET": self.groups}),
            (re.compile(rf"/2/groups/{n}"), {"GET": self.group}),
            (re.compile(r"/2/jobs"), {"GET": self.jobs}),
            (re.compile(r"/2/jobs/(?P<job_id>\d+)"), {"GET": self.job, "DELETE": self.job_cancel}),
            (re.compile(r"/2/jobs/(?P<job_id>\d+)/wait"), {"GET": self.job_wait}),
            (re.compile(r"/simganeti/faults"), {"GET": self.admin_faults, "POST": self.admin_faults_set}),
            (re.compile(rf"/simganeti/instances/{n}/kill"), {"POST": self.admin_kill}),
        ]

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        for pattern, methods in self.routes:
            match = pattern.fullmatch(path.rstrip("/") or "/")
            if not match:
                continue
            handler = methods.get(method)
            if handler is None:
                raise HttpError(501, f"Method {method} is unsupported for path {path}")
            return handler(query=query, body=body, **match.groupdict())
        raise HttpError(404)

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _flag(query: dict[str, list[str]], name: str) -> bool:
        values = query.get(name)
        if not values:
            return False
        try:
            return bool(int(values[0] or 0))
        except ValueError:
            raise HttpError(400, f"Invalid value for parameter '{name}': {values[0]!r}") from None

    @staticmethod
    def _body_dict(body: Any) -> dict[str, Any]:
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise HttpError(400, "Invalid body contents, not a dictionary")
        return dict(body)

    # rlib2 leaves dry_run unset (null) for these opcodes; the others get false.
    _NO_DRY_RUN = frozenset({"OP_INSTANCE_SET_PARAMS", "OP_INSTANCE_RENAME"})

    def _submit(self, query, resource: str | None, *ops: tuple[str, dict[str, Any]]) -> int:
        if self._flag(query, "dry-run"):
            raise HttpError(400, "dry-run is not simulated")
        depends = None
        for op_id, params in ops:
            depends = _job_dependencies(params.pop("depends", None)) or depends
            validate(op_id, params)
        submitted = [(op_id, {**params, "dry_run": None if op_id in self._NO_DRY_RUN else False}) for op_id, params in ops]
        reason = (query.get("reason") or [None])[0]
        return self.sim.queue.submit(submitted, rapi_resource=resource, user_reason=reason, depends=depends)

    def _listing(self, kind: str, items: dict[str, Any], query, render: Callable[[Any], dict[str, Any]]) -> list[Any]:
        # Ganeti names the key "id" for instances and nodes, "name" for networks and groups.
        key = "name" if kind in ("networks", "groups") else "id"
        with self.sim.lock:
            if not self._flag(query, "bulk"):
                return [{key: name, "uri": f"/2/{kind}/{name}"} for name in items]
            rows = [render(item) for item in items.values()]
        fields = [f for v in query.get("fields", []) for f in v.split(",") if f]
        if fields:
            rows = [{f: row.get(f) for f in fields} for row in rows]
        return rows

    def _instance_or_404(self, name: str):
        inst = self.sim.cluster.instances.get(name)
        if inst is None:
            raise HttpError(404)
        return inst

    # ------------------------------------------------------------ cluster
    def info(self, **_: Any) -> dict[str, Any]:
        with self.sim.lock:
            return self.sim.cluster.info()

    # ------------------------------------------------------------ instances
    def instances(self, query, **_: Any):
        return self._listing("instances", self.sim.cluster.instances, query, lambda i: i.rapi())

    def instance(self, name: str, **_: Any):
        with self.sim.lock:
            return self._instance_or_404(name).rapi()

    def instance_create(self, query, body, **_: Any) -> int:
        params = self._body_dict(body)
        if params.pop("__version__", 0) != 1:
            raise HttpError(400, "Instance creation request version 0 is no longer supported")
        for short, full in (("name", "instance_name"), ("os", "os_type")):  # rlib2 accepts both spellings
            if short in params:
                if full in params:
                    raise HttpError(400, f"Parameter '{short}' and '{full}' can not be given together")
                params[full] = params.pop(short)
        return self._submit(query, "instances", ("OP_INSTANCE_CREATE", params))

    def instance_remove(self, name: str, query, body, **_: Any) -> int:
        params: dict[str, Any] = {"instance_name": name, **self._body_dict(body)}
        if self._flag(query, "ignore_failures"):
            params["ignore_failures"] = True
        return self._submit(query, "instances_name", ("OP_INSTANCE_REMOVE", params))

    def instance_startup(self, name: str, query, body, **_: Any) -> int:
        params = {"instance_name": name, "force": self._flag(query, "force"), "no_remember": self._flag(query, "no_remember")}
        params.update(self._body_dict(body))
        return self._submit(query, "instances_name_startup", ("OP_INSTANCE_STARTUP", params))

    def instance_shutdown(self, name: str, query, body, **_: Any) -> int:
        params = {"instance_name": name, "no_remember": self._flag(query, "no_remember")}
        params.update(self._body_dict(body))
        return self._submit(query, "instances_name_shutdown", ("OP_INSTANCE_SHUTDOWN", params))

    def instance_reboot(self, name: str, query, body, **_: Any) -> int:
        params = {
            "instance_name": name,
            "reboot_type": (query.get("type") or ["hard"])[0],
            "ignore_secondaries": self._flag(query, "ignore_secondaries"),
        }
        params.update(self._body_dict(body))
        return self._submit(query, "instances_name_reboot", ("OP_INSTANCE_REBOOT", params))

    def instance_modify(self, name: str, query, body, **_: Any) -> int:
        params = {"instance_name": name, **self._body_dict(body)}
        return self._submit(query, "instances_name_modify", ("OP_INSTANCE_SET_PARAMS", params))

    def instance_reinstall(self, name: str, query, body, **_: Any) -> int:
        data = self._body_dict(body)
        if body is not None and query:
            raise HttpError(400, "Can't combine query and body parameters")
        unknown = set(data) - {"os", "start", "osparams", "osparams_private", "osparams_secret"}
        if unknown:
            raise HttpError(400, f"Invalid body parameters: unknown {sorted(unknown)}")
        ops: list[tuple[str, dict[str, Any]]] = [
            ("OP_INSTANCE_SHUTDOWN", {"instance_name": name, "dry_run": None}),
            (
                "OP_INSTANCE_REINSTALL",
                {"instance_name": name, "os_type": data.get("os"), "osparams": data.get("osparams"), "dry_run": None},
            ),
        ]
        if data.get("start", True):
            ops.append(("OP_INSTANCE_STARTUP", {"instance_name": name, "dry_run": None}))
        for op_id, params in ops:
            validate(op_id, {k: v for k, v in params.items() if k != "dry_run"})
        if self._flag(query, "dry-run"):
            raise HttpError(400, "dry-run is not simulated")
        return self.sim.queue.submit(ops, rapi_resource=None, user_reason=(query.get("reason") or [None])[0])

    def instance_rename(self, name: str, query, body, **_: Any) -> int:
        params = {"instance_name": name, **self._body_dict(body)}
        return self._submit(query, "instances_name_rename", ("OP_INSTANCE_RENAME", params))

    def instance_console(self, name: str, **_: Any) -> dict[str, Any]:
        with self.sim.lock:
            inst = self._instance_or_404(name)
            if not inst.running:
                raise HttpError(400, f"Instance '{name}' is not running")
        endpoint = getattr(self.sim, "console_endpoint", None)  # the embedded mode's test VNC server
        if endpoint:
            return {"instance": name, "kind": "vnc", "host": endpoint[0], "port": endpoint[1]}
        return {"instance": name, "kind": "msg", "message": "Console not available for fake hypervisor"}

    def instance_tags(self, name: str, **_: Any) -> list[str]:
        with self.sim.lock:
            return list(self._instance_or_404(name).tags)

    def instance_tags_add(self, name: str, query, **_: Any) -> int:
        params = {"kind": "instance", "name": name, "tags": query.get("tag", [])}
        return self._submit(query, "instances_name_tags", ("OP_TAGS_SET", params))

    def instance_tags_del(self, name: str, query, **_: Any) -> int:
        params = {"kind": "instance", "name": name, "tags": query.get("tag", [])}
        return self._submit(query, "instances_name_tags", ("OP_TAGS_DEL", params))

    # ------------------------------------------------------------ networks
    def _network_view(self, net) -> dict[str, Any]:
        return net.rapi(self.sim.cluster.network_instances(net))

    def networks(self, query, **_: Any):
        return self._listing("networks", self.sim.cluster.networks, query, self._network_view)

    def network(self, name: str, **_: Any):
        with self.sim.lock:
            net = self.sim.cluster.networks.get(name)
            if net is None:
                raise HttpError(404)
            return self._network_view(net)

    def network_add(self, query, body, **_: Any) -> int:
        return self._submit(query, "networks", ("OP_NETWORK_ADD", self._body_dict(body)))

    def network_remove(self, name: str, query, **_: Any) -> int:
        return self._submit(query, "networks_name", ("OP_NETWORK_REMOVE", {"network_name": name}))

    def network_connect(self, name: str, query, body, **_: Any) -> int:
        params = {"network_name": name, **self._body_dict(body)}
        return self._submit(query, "networks_name_connect", ("OP_NETWORK_CONNECT", params))

    def network_disconnect(self, name: str, query, body, **_: Any) -> int:
        params = {"network_name": name, **self._body_dict(body)}
        return self._submit(query, "networks_name_disconnect", ("OP_NETWORK_DISCONNECT", params))

    def network_tags(self, name: str, **_: Any) -> list[str]:
        with self.sim.lock:
            net = self.sim.cluster.networks.get(name)
            if net is None:
                raise HttpError(404)
            return list(net.tags)

    def network_tags_add(self, name: str, query, **_: Any) -> int:
        params = {"kind": "network", "name": name, "tags": query.get("tag", [])}
        return self._submit(query, "networks_name_tags", ("OP_TAGS_SET", params))

    def network_tags_del(self, name: str, query, **_: Any) -> int:
        params = {"kind": "network", "name": name, "tags": query.get("tag", [])}
        return self._submit(query, "networks_name_tags", ("OP_TAGS_DEL", params))

    # ------------------------------------------------------------ nodes and groups
    def nodes(self, query, **_: Any):
        c = self.sim.cluster
        return self._listing("nodes", {n.name: n for n in c.nodes}, query, c.node_rapi)

    def node(self, name: str, **_: Any):
        with self.sim.lock:
            node = self.sim.cluster.node(name)
            if node is None:
                raise HttpError(404)
            return self.sim.cluster.node_rapi(node)

    def groups(self, query, **_: Any):
        c = self.sim.cluster
        return self._listing("groups", {c.group_name: c}, query, lambda _c: c.group_rapi())

    def group(self, name: str, **_: Any):
        if name != self.sim.cluster.group_name:
            raise HttpError(404)
        with self.sim.lock:
            return self.sim.cluster.group_rapi()

    # ------------------------------------------------------------ jobs
    def jobs(self, query, **_: Any):
        ids = sorted(self.sim.queue.jobs)
        if self._flag(query, "bulk"):
            return [self.sim.queue.jobs[i].rapi() for i in ids]
        return [{"id": i, "uri": f"/2/jobs/{i}"} for i in ids]

    def job(self, job_id: str, **_: Any):
        job = self.sim.queue.get(int(job_id))
        from simganeti.jobs import unknown_job

        return job.rapi() if job else unknown_job(int(job_id))

    def job_cancel(self, job_id: str, **_: Any):
        ok, message = self.sim.queue.cancel(int(job_id))
        return [ok, message]

    def job_wait(self, job_id: str, body, **_: Any):
        data = self._body_dict(body)
        fields = data.get("fields")
        if not isinstance(fields, list) or not fields:
            raise HttpError(400, "Missing or invalid 'fields' parameter")
        try:
            result = self.sim.queue.wait_for_change(
                int(job_id), fields, data.get("previous_job_info"), data.get("previous_log_serial"), WAIT_TIMEOUT
            )
        except KeyError:
            raise HttpError(404) from None
        if result is None:
            raise HttpError(504)
        return result

    # ------------------------------------------------------------ admin (simulator only)
    def admin_faults(self, **_: Any) -> dict[str, Any]:
        return self.sim.faults.snapshot()

    def admin_faults_set(self, body, **_: Any) -> dict[str, Any]:
        data = self._body_dict(body)
        action = data.pop("action", None)
        faults = self.sim.faults
        try:
            if action == "fail_next":
                faults.fail_next(**data)
            elif action == "rapi_unavailable":
                faults.rapi_unavailable = bool(data.get("value", True))
            elif action == "slowdown":
                faults.slowdown = float(data["factor"])
            elif action == "hold_jobs":
                faults.hold_jobs()
            elif action == "release_jobs":
                faults.release_jobs()
            elif action == "clear":
                faults.clear()
            else:
                raise HttpError(
                    400, "action must be one of fail_next, rapi_unavailable, slowdown, hold_jobs, release_jobs, clear"
                )
        except (TypeError, KeyError, ValueError) as exc:
            raise HttpError(400, f"bad arguments for {action}: {exc}") from None
        return faults.snapshot()

    def admin_kill(self, name: str, **_: Any) -> dict[str, Any]:
        if not self.sim.kill_instance(name):
            raise HttpError(404)
        return {"instance": name, "status": "ERROR_down"}


def make_server(sim: SimGaneti, host: str, port: int, tls: ssl.SSLContext) -> _Server:
    return _Server((host, port), sim, RapiApi(sim), tls)


def serve_in_thread(server: _Server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="simganeti-rapi", daemon=True)
    thread.start()
    return thread
