"""Run tempest against the whole stack on PostgreSQL, RabbitMQ and the real Ganeti sandbox.

    .venv/bin/python -m tests.tempest.run_tempest [--regex R] [--concurrency N] [--keep] [--url URL]
        [--enable-feature vnc_console] [--hypervisor kvm] [--workspace DIR]

1. installs tempest==47.0.0 into its own virtualenv (``var/tempest/venv``, cached);
2. starts the stack (:mod:`tests.tempest.stack`) unless ``--url`` names a running one
   (then ``--facts`` gives its stack.json);
3. writes ``tempest.conf`` and ``accounts.yaml`` (pre-provisioned credentials: per primary
   project one member and one reader, plus an alt project for multi-tenant tests; image and
   flavor refs from the database; ``fixed_network_name = private``; ``max_microversion`` is
   what the server advertises; one cloud administrator per worker as tempest's admin
   credentials, for ``tempest.api.compute.admin``);
4. runs ``tempest run --regex`` and prints pass/skip/fail counts with every skip's reason;
   the exit status is tempest's.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import textwrap
import urllib.request
from collections import Counter
from pathlib import Path

from tests.tempest import stack as stackmod

ROOT = Path(__file__).resolve().parents[2]
TEMPEST_VERSION = "47.0.0"
VENV = ROOT / "var" / "tempest" / "venv"
WORKSPACE = ROOT / "var" / "tempest" / "workspace"

# The issue's acceptance set.
ISSUE_REGEX = (
    r"^tempest\.api\.compute\.(test_versions|flavors\.test_flavors\.|servers\.(test_create_server\.ServersTestJSON|"
    r"test_servers\.ServersTestJSON|test_list_server_filters|test_list_servers_negative|test_delete_server|"
    r"test_server_actions\.ServerActionsTestJSON\.test_(reboot_server_hard|stop_start_server|lock_unlock_server|rebuild_server)|"
    r"test_server_metadata|test_server_addresses|test_servers_negative|test_instance_actions)|keypairs\.test_keypairs)"
)
# What needs no server at all: useful while the server half is being built.
NO_SERVER_REGEX = r"^tempest\.api\.compute\.(test_versions|flavors\.test_flavors\.|keypairs\.test_keypairs)"

# Features this cloud does not offer (or not yet): each stays False in [compute-feature-enabled].
DISABLED_FEATURES = [
    "pause", "suspend", "shelve", "rescue", "change_password", "console_output", "vnc_console",
    "spice_console", "serial_console", "live_migration", "cold_migration", "snapshot", "interface_attach",
    "metadata_service", "config_drive", "personality", "disk_config", "swap_volume", "instance_password",
    "volume_multiattach", "attach_encrypted_volume", "block_migration_for_live_migration",
]  # fmt: skip


def ensure_tempest() -> Path:
    """The tempest executable, installing the pinned version into its own venv when missing."""
    tempest = VENV / "bin" / "tempest"
    pip = VENV / "bin" / "pip"
    if tempest.exists():
        shown = subprocess.run([str(pip), "show", "tempest"], capture_output=True, text=True)
        if f"Version: {TEMPEST_VERSION}" in shown.stdout:
            return tempest
    VENV.parent.mkdir(parents=True, exist_ok=True)
    if not pip.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(pip), "install", "-q", f"tempest=={TEMPEST_VERSION}"], check=True)
    return tempest


def advertised_microversion(url: str) -> str:
    with urllib.request.urlopen(f"{url}/compute/", timeout=10) as resp:
        versions = json.load(resp)["versions"]
    return next(v["version"] for v in versions if v["id"] == "v2.1")


def accounts_yaml(facts: dict) -> str:
    lines = []
    # tempest uses an account whose roles hold [identity] admin_role (admin) only for admin credentials
    for acc in facts["accounts"] + facts.get("admins", []):
        lines.append(
            f"- username: {acc['username']}\n  project_name: {acc['project_name']}\n  password: {facts['password']}\n"
            f"  user_domain_name: Default\n  project_domain_name: Default\n  roles: [{acc['role']}]"
        )
    return "\n".join(lines) + "\n"


def tempest_conf(
    url: str,
    facts: dict,
    accounts_file: Path,
    max_microversion: str,
    *,
    build_timeout: int,
    glance: bool = False,
    enabled: tuple[str, ...] = (),
) -> str:
    """``enabled``: features of DISABLED_FEATURES this run turns on (e.g. vnc_console on a KVM stack)."""
    features = "\n".join(f"{name} = {name in enabled}" for name in DISABLED_FEATURES)
    images, flavors = facts["images"], facts["flavors"]
    return (
        textwrap.dedent(
            f"""\
        [DEFAULT]
        log_file = tempest.log
        use_stderr = False

        [oslo_concurrency]
        # Account locks of this workspace only: the default (/tmp/tempest-lock) is shared by every
        # run on the machine, and the same account names in other stacks hash alike.
        lock_path = {accounts_file.parent.parent / "tempest_lock"}

        [auth]
        use_dynamic_credentials = False
        test_accounts_file = {accounts_file}
        create_isolated_networks = False
        default_credentials_domain_name = Default

        [identity]
        uri_v3 = {url}/identity/v3
        auth_version = v3
        region = RegionOne
        v3_endpoint_type = public
        disable_ssl_certificate_validation = True

        [identity-feature-enabled]
        api_v2 = False

        [compute]
        image_ref = {images[0]}
        image_ref_alt = {images[1]}
        flavor_ref = {flavors[0]}
        flavor_ref_alt = {flavors[1]}
        fixed_network_name = private
        build_interval = 1
        build_timeout = {build_timeout}
        ready_wait = 0
        min_microversion = 2.1
        max_microversion = {max_microversion}
        endpoint_type = publicURL

        [compute-feature-enabled]
        resize = True
        """
        )
        + features
        + textwrap.dedent(
            """

        [network-feature-enabled]
        ipv6 = False
        floating_ips = False

        [image-feature-enabled]
        api_v2 = True

        [validation]
        run_validation = False

        [service_available]
        nova = True
        neutron = True
        glance = True
        cinder = False
        swift = False
        """
        ).replace("glance = False", f"glance = {glance}")
    )


# With --volume (tests/tempest/test_tempest_volumes.py): the volume service and what it does not offer.
VOLUME_CONF = """
[volume]
catalog_type = volume
endpoint_type = publicURL
build_interval = 1
build_timeout = {build_timeout}
volume_size = 1
min_microversion = 3.0
max_microversion = 3.0
# the stack's RBD type (tests/tempest/provision.py): Ganeti ext + cyclades-rbd, with snapshots and clones
volume_type = rbd

[volume-feature-enabled]
snapshot = True
backup = False
clone = True
manage_volume = False
manage_snapshot = False
extend_attached_volume = False
extend_attached_encrypted_volume = False
volume_revert = False
multi_backend = False

"""


def write_workspace(
    tempest: Path,
    url: str,
    facts: dict,
    *,
    build_timeout: int,
    glance: bool = False,
    enabled: tuple[str, ...] = (),
    workspace: Path = WORKSPACE,
    volume: bool = False,
) -> Path:
    if not (workspace / ".stestr.conf").exists():
        workspace.parent.mkdir(parents=True, exist_ok=True)
        # The workspace registry lives beside the workspace: the default, ~/.tempest/workspace.yaml,
        # is shared by every checkout on the machine and refuses a second "workspace" elsewhere.
        subprocess.run(
            [str(tempest), "init", "--workspace-path", str(workspace.parent / "workspaces.yaml"), str(workspace)],
            check=True,
            capture_output=True,
        )
    accounts = workspace / "etc" / "accounts.yaml"
    accounts.write_text(accounts_yaml(facts))
    conf = workspace / "etc" / "tempest.conf"
    microversion = advertised_microversion(url)
    text = tempest_conf(url, facts, accounts, microversion, build_timeout=build_timeout, glance=glance, enabled=enabled)
    if volume:
        text = text.replace("cinder = False", "cinder = True").replace("glance = False", "glance = True")
        text += VOLUME_CONF.format(build_timeout=build_timeout)
    conf.write_text(text)
    return conf


_RESULT = re.compile(
    r"^\{\d+\} (?P<test>\S+?)(?:\[[^\]]*\])?(?: \[[\d.]+s\])? \.\.\. (?P<status>ok|FAILED|SKIPPED)(?::\s*(?P<reason>.*))?$"
)
_TOTAL = re.compile(r"^ - (?P<what>Passed|Skipped|Failed|Expected Fail|Unexpected Success): (?P<n>\d+)$")
_CLASS_SKIP = re.compile(r"^\{\d+\} setUpClass \((?P<test>[^)]+)\) \.\.\. SKIPPED: (?P<reason>.*)$")


def summarize(output: str) -> dict:
    """Counts and per-test outcomes from tempest's subunit-trace output."""
    outcomes: dict[str, tuple[str, str]] = {}
    for line in output.splitlines():
        if m := _RESULT.match(line.strip()):
            outcomes[m["test"]] = (m["status"], (m["reason"] or "").strip())
        elif m := _CLASS_SKIP.match(line.strip()):
            outcomes[m["test"] + " (whole class)"] = ("SKIPPED", m["reason"].strip())
    counts = Counter(status for status, _ in outcomes.values())
    totals = {m["what"]: int(m["n"]) for line in output.splitlines() if (m := _TOTAL.match(line.rstrip()))}
    return {
        # tempest's own totals count every test of a class skipped in setUpClass
        "passed": totals.get("Passed", counts["ok"]),
        "skipped": totals.get("Skipped", counts["SKIPPED"]),
        "failed": totals.get("Failed", counts["FAILED"]),
        "skips": {t: r for t, (s, r) in sorted(outcomes.items()) if s == "SKIPPED"},
        "failures": sorted(t for t, (s, _) in outcomes.items() if s == "FAILED"),
        "passed_tests": sorted(t for t, (s, _) in outcomes.items() if s == "ok"),
    }


def run(tempest: Path, regex: str, concurrency: int, workspace: Path = WORKSPACE) -> tuple[int, str]:
    """``tempest run`` in the workspace; returns its exit status and output (also saved to last-run.txt)."""
    args = [str(tempest), "run", "--config-file", "etc/tempest.conf", "--regex", regex, "--concurrency", str(concurrency)]
    proc = subprocess.run(args, cwd=workspace, capture_output=True, text=True)
    (workspace / "last-run.txt").write_text(proc.stdout + proc.stderr)
    return proc.returncode, proc.stdout + proc.stderr


def unexplained_skips(summary: dict, reasons) -> dict[str, str]:
    """The skips of ``summary`` whose reason contains none of ``reasons`` (case-insensitive)."""
    wanted = [k.lower() for k in reasons]
    return {t: r for t, r in summary["skips"].items() if not any(k in r.lower() for k in wanted)}


def report(summary: dict) -> str:
    lines = [f"tempest: {summary['passed']} passed, {summary['skipped']} skipped, {summary['failed']} failed"]
    for test, reason in summary["skips"].items():
        lines.append(f"  SKIP {test}: {reason}")
    for test in summary["failures"]:
        lines.append(f"  FAIL {test}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_tempest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--regex", default=ISSUE_REGEX, help="tests to run (default: the compute issue's set)")
    parser.add_argument(
        "--no-server", action="store_true", help="only the tests that need no server (versions, flavors, keypairs)"
    )
    parser.add_argument("--glance", action="store_true", help="tell tempest the image service is there (image tests)")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--build-timeout", type=int, default=180)
    parser.add_argument("--keep", action="store_true", help="leave the stack's database, vhost and Ganeti objects")
    parser.add_argument("--url", help="use a running stack at this URL (with --facts)")
    parser.add_argument("--facts", help="stack.json of the running stack")
    parser.add_argument(
        "--enable-feature",
        action="append",
        default=[],
        choices=DISABLED_FEATURES,
        help="turn on one of the features otherwise disabled in [compute-feature-enabled] (repeatable)",
    )
    parser.add_argument("--hypervisor", help="the stack's backend creates servers on this hypervisor (e.g. kvm)")
    parser.add_argument("--workspace", type=Path, default=WORKSPACE, help=f"tempest workspace (default {WORKSPACE})")
    parser.add_argument("--volume", action="store_true", help="the volume service is on (tempest's [volume] settings)")
    args = parser.parse_args(argv)
    workspace, enabled = args.workspace, tuple(args.enable_feature)
    regex = NO_SERVER_REGEX if args.no_server else args.regex
    tempest = ensure_tempest()

    def go(url: str, facts: dict) -> int:
        write_workspace(
            tempest,
            url,
            facts,
            build_timeout=args.build_timeout,
            glance=args.glance,
            enabled=enabled,
            workspace=workspace,
            volume=args.volume,
        )
        code, output = run(tempest, regex, args.concurrency, workspace)
        summary = summarize(output)
        (workspace / "summary.json").write_text(json.dumps(summary, indent=2))
        print(report(summary))
        print(f"(full output: {workspace / 'last-run.txt'}; tempest log: {workspace / 'tempest.log'})")
        return code

    if args.url:
        facts = json.loads(Path(args.facts).read_text())["facts"]
        return go(args.url.rstrip("/"), facts)
    provision_args = ("--hypervisor", args.hypervisor) if args.hypervisor else ()
    stack = stackmod.start(concurrency=args.concurrency, provision_args=provision_args)
    try:
        print(f"stack {stack.run_id} at {stack.url} (logs in {stack.workdir})", flush=True)
        return go(stack.url, stack.facts)
    finally:
        stackmod.stop(stack, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
