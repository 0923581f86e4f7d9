"""Provision (and clean up) a stack's database and Ganeti objects; run with the stack's environment.

    python -m tests.tempest.provision setup [N] [--hypervisor kvm]   # prints JSON facts: accounts, flavors, ...
    python -m tests.tempest.provision cleanup   # removes this stack's Ganeti instances and networks

Everything created in Ganeti is named ``<GANETI_PREFIX>-...`` (the sandbox is shared);
cleanup touches nothing else.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import sys
import time


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cyclades.settings")
    import django

    django.setup()


# Tempest personas: (user, project, role). Each primary project holds one member and one reader
# (tempest prefers the project with most personas for primary + project_reader); alt projects
# hold only a member.
def accounts_for(concurrency: int) -> list[tuple[str, str, str]]:
    """Alt accounts come first: tempest hands "alt" the first free account in file order, and must
    not pick the reader of the primary project (a reader of the same project is not another tenant)."""
    out = [(f"alt{n}", f"alt{n}", "member") for n in range(1, concurrency + 1)]
    for n in range(1, concurrency + 1):
        out += [(f"demo{n}", f"demo{n}", "member"), (f"demo{n}-reader", f"demo{n}", "reader")]
    return out


PASSWORD = "tempest-secret-0123"


def _private_cidr(prefix: str, index: int) -> str:
    """A /24 in 10.128.0.0/9 derived from the prefix and index, so runs and networks do not share IP ranges."""
    h = int(hashlib.sha256(f"{prefix}/{index}".encode()).hexdigest(), 16)
    return str(ipaddress.IPv4Network(f"10.{128 + h % 127}.{(h >> 8) % 256}.0/24"))


def _ensure_ganeti_network(client, name: str, cidr: str, link: str) -> None:
    if name not in client.list_networks():
        gateway = str(next(ipaddress.IPv4Network(cidr).hosts()))
        client.wait_for_job(client.create_network(name, cidr, gateway=gateway, tags=["cyclades:tempest"]), timeout=120)
    groups = [entry[0] for entry in client.get_network(name).get("group_list") or []]
    if "default" not in groups:
        _retrying(lambda: client.wait_for_job(client.connect_network(name, "default", link=link), timeout=120))


def _rapi_env() -> dict[str, str]:
    from tests.services import ganeti_env

    return ganeti_env()


def _client():
    from tests.fixtures_ganeti import sandbox_client

    return sandbox_client(_rapi_env())


def _retrying(submit_and_wait, attempts: int = 5):
    """Ganeti refuses some group-wide jobs when the group's instances change meanwhile (other users of
    the shared sandbox): it says "retry the operation", so do."""
    from logic.rapi import JobFailed

    for attempt in range(attempts):
        try:
            return submit_and_wait()
        except JobFailed as exc:
            if "retry the operation" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.5 + attempt)


def setup(concurrency: int, hypervisor: str | None = None) -> dict:
    """Provision the stack; ``hypervisor``: what the backend's servers run on (default: the cluster's default)."""
    from django.conf import settings

    from logic import backends, flavors, images, networks
    from logic.enums import Role
    from logic.identity import AuthContext
    from logic.models import Backend, Flavor, Image, Membership, Project, User
    from logic.models.networks import Network

    prefix = settings.CYCLADES["GANETI_PREFIX"]
    env = _rapi_env()
    facts: dict = {"prefix": prefix, "accounts": [], "password": PASSWORD}

    # the sandbox cluster as the backend
    if not Backend.objects.exists():
        with open(env["GANETI_RAPI_CERT"]) as f:
            pem = f.read()
        backends.add_backend(
            host=env["GANETI_RAPI_HOST"],
            port=int(env["GANETI_RAPI_PORT"]),
            username=env["GANETI_RAPI_USER"],
            password=env["GANETI_RAPI_PASSWORD"],
            certificate_pem=pem,
        )
    if hypervisor:
        from logic.backend_hypervisor import set_hypervisor

        set_hypervisor(Backend.objects.get(), hypervisor)
    facts["hypervisor"] = Backend.objects.get().hypervisor

    # projects, users, memberships; each project's "private" network is backed by its own Ganeti
    # network with an IP pool, so NICs Ganeti reports map back to exactly one API network
    with _client() as client:
        for username, project_name, role in accounts_for(concurrency):
            project, _ = Project.objects.get_or_create(name=project_name)
            user = User.objects.filter(name=username).first() or User.objects.create_user(name=username, password=PASSWORD)
            Membership.objects.get_or_create(user=user, project=project, defaults={"role": Role(role)})
            if not Network.objects.filter(project=project, name="private").exists():
                index = Network.objects.count() + 1
                ganeti_net, cidr = f"{prefix}-net-{index}", _private_cidr(prefix, index)
                _ensure_ganeti_network(client, ganeti_net, cidr, env["GANETI_NIC_LINK"])
                networks.create(name="private", project=project, ganeti_network=ganeti_net, cidr=cidr)
            facts["accounts"].append({"username": username, "project_name": project_name, "role": role})
    admin = User.objects.filter(name="cloud-admin").first() or User.objects.create_user(
        name="cloud-admin", password=PASSWORD, is_admin=True
    )
    admin_project, _ = Project.objects.get_or_create(name="admin")
    Membership.objects.get_or_create(user=admin, project=admin_project, defaults={"role": Role.ADMIN})
    facts["admin"] = {"username": "cloud-admin", "project_name": "admin"}
    # tempest's admin credentials (tempest.api.compute.admin): one cloud administrator per worker
    facts["admins"] = []
    for n in range(1, concurrency + 1):
        name = f"tempest-admin{n}"
        user = User.objects.filter(name=name).first() or User.objects.create_user(name=name, password=PASSWORD, is_admin=True)
        Membership.objects.get_or_create(user=user, project=admin_project, defaults={"role": Role.ADMIN})
        facts["admins"].append({"username": name, "project_name": admin_project.name, "role": "admin"})

    # flavors 1 and 2 are tempest's flavor_ref / flavor_ref_alt. They use the file template (a sparse 1 GiB
    # file): rebuild reinstalls the disk, and Ganeti refuses to reinstall a diskless instance.
    operator = AuthContext(user=admin, project=None, roles=[Role.ADMIN])
    for pk, name, vcpus, ram in ((1, "m1.tiny", 1, 128), (2, "m1.small", 1, 256), (3, "m1.medium", 2, 512)):
        if not Flavor.objects.filter(pk=pk).exists():
            flavors.create_flavor(operator, name=name, vcpus=vcpus, ram=ram, disk=1, flavor_id=str(pk), disk_template="file")
    facts["flavors"] = ["1", "2", "3"]
    # servers and volumes on Ceph RBD: Ganeti's ext template with our cyclades-rbd provider (scripts/test.sh)
    if not Flavor.objects.filter(pk=4).exists():
        flavors.create_flavor(operator, name="m1.rbd", vcpus=1, ram=128, disk=1, flavor_id="4", disk_template="ext")
    facts["rbd_flavor"] = "4"
    from logic import volume_types
    from logic.models import VolumeType

    if not VolumeType.objects.filter(name="rbd").exists():
        volume_types.create("rbd", description="Ceph RBD (Ganeti ext, cyclades-rbd)", extra_specs={"disk_template": "ext"})
    facts["rbd_volume_type"] = "rbd"

    # two images the noop OS definition deploys
    facts["images"] = []
    for name in ("cirros-noop", "cirros-noop-alt"):
        image = Image.objects.filter(name=name).first() or images.register(
            name=name, ganeti_os="noop", size=1 << 20, properties={"os": "linux", "users": "root"}
        )
        facts["images"].append(str(image.pk))
    return facts


def cleanup() -> dict:
    """Remove this stack's Ganeti instances, then its networks and backup exports (names starting with ``<prefix>-``)."""
    from django.conf import settings

    prefix = settings.CYCLADES["GANETI_PREFIX"] + "-"
    removed: dict[str, list[str]] = {"instances": [], "networks": [], "rbd_images": []}
    with _client() as client:
        jobs = []
        for name in client.list_instance_names():
            if name.startswith(prefix):
                jobs.append(client.remove_instance(name))
                removed["instances"].append(name)
        for job in jobs:
            try:
                client.wait_for_job(job, timeout=120)
            except Exception as exc:  # report, continue with the rest
                print(f"cleanup: job {job}: {exc}", file=sys.stderr)
        for name in client.list_networks():
            if name.startswith(prefix):
                info = client.get_network(name)
                for group in [entry[0] for entry in info.get("group_list") or []]:
                    _retrying(lambda n=name, g=group: client.wait_for_job(client.disconnect_network(n, g), timeout=120))
                _retrying(lambda n=name: client.wait_for_job(client.remove_network(n), timeout=120))
                removed["networks"].append(name)
    removed["rbd_images"] = _remove_rbd_images(prefix)
    removed["exports"] = _remove_exports(prefix)
    return removed


def _remove_exports(prefix: str) -> list[str]:
    """The backup exports snapshots left (Ganeti keeps one, empty, per exported instance; RAPI cannot remove them)."""
    import shutil
    import subprocess

    if shutil.which("gnt-ns") is None:
        return []
    listed = subprocess.run(["gnt-ns", "gnt-backup", "list", "--no-headers", "-o", "export"], capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    removed = []
    for name in sorted({line.strip() for line in listed.stdout.splitlines() if line.strip().startswith(prefix)}):
        done = subprocess.run(["gnt-ns", "gnt-backup", "remove", name], capture_output=True, text=True, timeout=120)
        if done.returncode == 0:
            removed.append(name)
        else:
            print(f"cleanup: export {name}: {done.stderr.strip()}", file=sys.stderr)
    return removed


def _remove_rbd_images(prefix: str) -> list[str]:
    """RBD images left by this stack (volumes are ``<prefix>-vol-<id>``; server disks Ganeti removed)."""
    from logic import volume_rbd

    try:
        import rbd

        with volume_rbd._ioctx() as ioctx:
            names = [n for n in rbd.RBD().list(ioctx) if n.startswith(prefix)]
    except Exception as exc:  # Ceph not there: nothing of ours can be in it
        print(f"cleanup: rbd: {exc}", file=sys.stderr)
        return []
    for name in names:
        for snap in volume_rbd.snapshots(name):
            volume_rbd.remove_snapshot(name, snap)
        volume_rbd.remove(name)
    return names


def main(argv: list[str]) -> int:
    _django()
    if argv[:1] == ["setup"]:
        args = argv[1:]
        hypervisor = None
        if "--hypervisor" in args:
            at = args.index("--hypervisor")
            hypervisor = args[at + 1]
            del args[at : at + 2]
        concurrency = int(args[0]) if args else 1
        print(json.dumps(setup(concurrency, hypervisor)))
    elif argv[:1] == ["cleanup"]:
        print(json.dumps(cleanup()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
