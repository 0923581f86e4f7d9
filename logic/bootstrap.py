"""Demo data for a fresh installation: users, a project, flavors, an image, a network, a backend.

Used by the embedded mode on first run (``cyclades-allinone``) and usable from a
shell for any demo installation. Idempotent: what exists is left alone, so it
can run at every start. Passwords are generated once and kept in a file under
DATA_DIR (mode 0600), so the printed credentials stay valid across runs.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass

from django.conf import settings
from django.db import transaction

from logic import backends as backend_rules
from logic import images as image_rules
from logic import networks as network_rules
from logic.enums import Role
from logic.models import Backend, Flavor, Image, Membership, Network, Project, User

log = logging.getLogger(__name__)

DEMO_FLAVORS = (
    # name, vCPUs, RAM MiB, disk GiB, Ganeti disk template
    ("m1.tiny", 1, 128, 0, "diskless"),
    ("m1.small", 1, 512, 1, "file"),
    ("m1.medium", 2, 1024, 2, "file"),
)
DEMO_IMAGE = "demo-noop"
PUBLIC_NETWORK = "public"


@dataclass
class Credentials:
    """Who can log in, written to ``<DATA_DIR>/demo-credentials.json``."""

    admin_user: str
    admin_password: str
    admin_project: str
    demo_user: str
    demo_password: str
    demo_project: str


@dataclass
class GanetiTarget:
    """Where the demo backend's RAPI is (the simulator in the embedded mode)."""

    host: str
    port: int
    user: str
    password: str
    certificate_pem: str


def _credentials_file() -> str:
    return os.path.join(settings.DATA_DIR, "demo-credentials.json")


def load_or_create_credentials() -> Credentials:
    path = _credentials_file()
    if os.path.exists(path):
        with open(path) as f:
            return Credentials(**json.load(f))
    creds = Credentials(
        admin_user="admin",
        admin_password=secrets.token_urlsafe(12),
        admin_project="admin",
        demo_user="demo",
        demo_password=secrets.token_urlsafe(12),
        demo_project="demo",
    )
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(asdict(creds), f, indent=1)
    return creds


def _user(name: str, password: str, *, is_admin: bool) -> User:
    user = User.objects.filter(domain_id="default", name=name).first()
    if user is None:
        user = User.objects.create_user(name, password, is_admin=is_admin, email=f"{name}@example.org")
        log.info("created user %s", name)
    return user


def _project(name: str, description: str) -> Project:
    project = Project.objects.filter(domain_id="default", name=name).first()
    if project is None:
        project = Project.objects.create(name=name, description=description)
        log.info("created project %s", name)
    return project


def _member(user: User, project: Project, role: str) -> None:
    Membership.objects.get_or_create(user=user, project=project, defaults={"role": role})


def ensure_identities(creds: Credentials) -> None:
    """The demo admin (cloud administrator, admin of project ``admin``) and demo user (member of ``demo``)."""
    with transaction.atomic():
        admin = _user(creds.admin_user, creds.admin_password, is_admin=True)
        admin_project = _project(creds.admin_project, "Cloud administration")
        _member(admin, admin_project, Role.ADMIN)
        demo = _user(creds.demo_user, creds.demo_password, is_admin=False)
        demo_project = _project(creds.demo_project, "Demo project")
        _member(demo, demo_project, Role.MEMBER)
        _member(admin, demo_project, Role.ADMIN)


def ensure_flavors() -> None:
    for name, vcpus, ram, disk, template in DEMO_FLAVORS:
        if not Flavor.objects.filter(name=name).exists():
            Flavor.objects.create(name=name, vcpus=vcpus, ram=ram, disk=disk, disk_template=template)
            log.info("created flavor %s", name)


def ensure_image(ganeti_os: str = "noop") -> Image:
    image = Image.objects.filter(name=DEMO_IMAGE).first()
    if image is None:
        image = image_rules.register(
            name=DEMO_IMAGE,
            ganeti_os=ganeti_os,
            properties={"description": "Boots nothing: the demo cluster's noop OS", "os_distro": "none"},
        )
        log.info("registered image %s (%s)", DEMO_IMAGE, ganeti_os)
    return image


def ensure_backend(target: GanetiTarget, *, name: str | None = None) -> Backend:
    """The backend for ``target``; its connection details are refreshed when it exists (new port, new cert)."""
    existing = Backend.objects.filter(name=name).first() if name else Backend.objects.order_by("id").first()
    if existing is None:
        backend = backend_rules.add_backend(
            host=target.host,
            port=target.port,
            username=target.user,
            password=target.password,
            certificate_pem=target.certificate_pem,
            name=name,
        )
        log.info("added backend %s", backend.name)
        return backend
    changed = (existing.rapi_host, existing.rapi_port, existing.rapi_user) != (target.host, target.port, target.user)
    if (
        changed
        or existing.rapi_password != target.password
        or existing.rapi_certificate.strip() != target.certificate_pem.strip()
    ):
        existing.rapi_host, existing.rapi_port, existing.rapi_user = target.host, target.port, target.user
        existing.rapi_password = target.password
        existing.rapi_certificate = target.certificate_pem
        existing.save()
    return existing


def ensure_public_network(ganeti_network: str, cidr: str) -> Network:
    network = Network.objects.filter(name=PUBLIC_NETWORK, project__isnull=True, deleted=False).first()
    if network is None:
        network = network_rules.create(name=PUBLIC_NETWORK, public=True, ganeti_network=ganeti_network, cidr=cidr)
        log.info("registered public network %s (Ganeti network %s)", PUBLIC_NETWORK, ganeti_network)
    return network


def ensure_ganeti_network(target: GanetiTarget, name: str, cidr: str, *, link: str = "br-gnt", group: str = "default") -> None:
    """The Ganeti network (IP pool) behind the public network, created and connected through the RAPI."""
    gateway = str(next(ipaddress.IPv4Network(cidr).hosts()))
    client = backend_rules.make_client(target.host, target.port, target.user, target.password, target.certificate_pem)
    with client:
        if name not in client.list_networks():
            client.wait_for_job(client.create_network(name, cidr, gateway=gateway, tags=["cyclades:public"]), timeout=60)
            log.info("created Ganeti network %s (%s)", name, cidr)
        groups = [entry[0] for entry in client.get_network(name).get("group_list") or []]
        if group not in groups:
            client.wait_for_job(client.connect_network(name, group, link=link), timeout=60)


def ensure_demo_data(target: GanetiTarget | None, *, ganeti_os: str = "noop", public_cidr: str = "10.0.0.0/24") -> Credentials:
    """Everything a newcomer needs to boot a server; returns the credentials to print."""
    creds = load_or_create_credentials()
    ensure_identities(creds)
    ensure_flavors()
    ensure_image(ganeti_os)
    if target is not None:
        ganeti_network = f"{settings.CYCLADES['GANETI_PREFIX']}-net-public"
        ensure_ganeti_network(target, ganeti_network, public_cidr)
        ensure_public_network(ganeti_network, public_cidr)
        ensure_backend(target)
    return creds
