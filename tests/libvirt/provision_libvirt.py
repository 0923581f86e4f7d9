"""Provision a running stack (:mod:`tests.tempest.stack`) with this machine's real libvirtd as a backend.

    python -m tests.libvirt.provision_libvirt setup URI     # prints JSON facts
    python -m tests.libvirt.provision_libvirt cleanup URI

``setup`` drains the stack's Ganeti backend (servers then go to the libvirt host), adds ``URI``
as a libvirt backend, creates the flavor ``lv.qemu`` (disk template rbd, 128 MiB, 1 GiB disk:
its domain template, in ``LIBVIRT_TEMPLATE_DIR``, boots the test guest's kernel directly) and
writes an image into the rbd store (``image-<id>`` with its protected snapshot). ``cleanup``
removes the stack's domains on the host, their RBD disks and the image's RBD data.
"""

from __future__ import annotations

import json
import os
import sys
import uuid


def _django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cyclades.settings")
    import django

    django.setup()


FLAVOR = "lv.qemu"
IMAGE = "guest-rbd"


def setup(uri: str) -> dict:
    from django.conf import settings

    from logic import flavors
    from logic.drivers.libvirt.backends import add_libvirt_backend
    from logic.enums import Role
    from logic.identity import AuthContext
    from logic.image_stores import get_store
    from logic.models import Backend, Flavor, Image, User

    Backend.objects.filter(kind=Backend.Kind.GANETI).update(drained=True)
    name = f"{settings.CYCLADES['GANETI_PREFIX']}-libvirt"
    backend = Backend.objects.filter(name=name).first() or add_libvirt_backend(uri=uri, name=name)
    admin = User.objects.get(name="cloud-admin")
    operator = AuthContext(user=admin, project=None, roles=[Role.ADMIN])
    flavor = Flavor.objects.filter(name=FLAVOR).first() or flavors.create_flavor(
        operator, name=FLAVOR, vcpus=1, ram=128, disk=1, flavor_id="101", disk_template="rbd"
    )
    image = Image.objects.filter(name=IMAGE).first()
    if image is None:
        image_id = str(uuid.uuid4())
        data = b"cyclades libvirt test disk\n".ljust(4 << 20, b"\0")
        location = get_store("rbd").write(image_id, iter([data]))
        image = Image.objects.create(
            id=image_id, name=IMAGE, size=len(data), store="rbd", location=location, ganeti_os="noop", status="active"
        )
    return {"backend": backend.name, "flavor": str(flavor.pk), "image": str(image.pk), "image_location": image.location}


def cleanup(uri: str) -> dict:
    import libvirt
    import rbd
    from django.conf import settings

    from logic.drivers.libvirt import ceph
    from logic.image_stores import get_store
    from logic.models import Image

    prefix = settings.CYCLADES["GANETI_PREFIX"] + "-"
    removed: dict[str, list[str]] = {"domains": [], "rbd": []}
    conn = libvirt.open(uri)
    for dom in conn.listAllDomains():
        if dom.name().startswith(prefix):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
            removed["domains"].append(dom.name())
    conn.close()
    cfg = ceph.rbd_config()
    with ceph.store(cfg).ioctx() as ioctx:
        for name in rbd.RBD().list(ioctx):
            if name.startswith(prefix):
                rbd.RBD().remove(ioctx, name)
                removed["rbd"].append(name)
    for image in Image.objects.filter(name=IMAGE, store="rbd"):
        get_store("rbd").delete(image.location)
        removed["rbd"].append(image.location)
    return removed


def main(argv: list[str]) -> int:
    _django()
    if len(argv) == 2 and argv[0] in ("setup", "cleanup"):
        print(json.dumps((setup if argv[0] == "setup" else cleanup)(argv[1])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
