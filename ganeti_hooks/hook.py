"""The post hook Ganeti runs: report what it sees to the spool eventd drains. Stdlib only.

Contract with Ganeti: a hook must be quick and its failure must never fail the
job (Ganeti ignores post-hook failures for the job's outcome, but still logs
them as errors), so :func:`main` always returns 0 and reports problems on
stderr and to syslog.

Only the master node reports: Ganeti runs post hooks on the master and on the
instance's nodes, and every copy would describe the same change. A node knows
it is the master when its host name matches ``GANETI_MASTER``.
"""

from __future__ import annotations

import os
import socket
import sys
import syslog
from collections.abc import Mapping, Sequence

from eventd.spool import Spool
from ganeti_hooks import report


def _complain(message: str) -> None:
    text = f"cyclades hook: {message}"
    print(text, file=sys.stderr)
    try:
        syslog.openlog("cyclades-ganeti-hook", 0, syslog.LOG_DAEMON)
        syslog.syslog(syslog.LOG_WARNING, text)
    except OSError:  # no syslog socket (containers): stderr already has it
        pass


def on_master(env: Mapping[str, str], hostname: str | None = None) -> bool:
    """True unless GANETI_MASTER names another node than this one."""
    master = env.get("GANETI_MASTER", "").strip().lower()
    if not master:
        return True
    here = (hostname or socket.gethostname()).strip().lower()
    if here == master:
        return True
    return here.split(".", 1)[0] == master.split(".", 1)[0] and ("." not in here or "." not in master)


def run(
    spool_dir: str, env: Mapping[str, str] | None = None, *, hostname: str | None = None, prefixes: Sequence[str] = ()
) -> str | None:
    """Build the message for this hook run and spool it; returns the spool file (None: nothing to report).

    ``prefixes``: when given, only instances/networks whose name starts with one of them are reported.
    """
    env = os.environ if env is None else env
    if env.get("GANETI_HOOKS_PHASE", "post") != "post" or not on_master(env, hostname):
        return None
    routing_key, body = report.build(env)
    if prefixes and not any(str(body.get("instance") or body.get("network") or "").startswith(p) for p in prefixes):
        return None
    return Spool(spool_dir, source="hook").put(routing_key, body, body["id"])


def main(spool_dir: str, env: Mapping[str, str] | None = None, *, prefixes: Sequence[str] = ()) -> int:
    """Entry point of the installed hook scripts: never fails (always 0)."""
    try:
        run(spool_dir, env, prefixes=prefixes)
    except Exception as exc:  # the hook must never fail a Ganeti job: report and exit 0
        _complain(f"could not report {os.environ.get('GANETI_HOOKS_PATH', '?')}: {type(exc).__name__}: {exc}")
    return 0


if __name__ == "__main__":
    # python -m ganeti_hooks.hook SPOOL_DIR  (what the installed scripts do)
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/var/lib/cyclades/spool"))
