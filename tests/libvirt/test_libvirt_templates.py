"""Domain XML templates: an operator's template changes the domain libvirt runs (its dumpxml), and a
broken one is refused at backend-add, and before any job at create, with the bad element named."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from logic.drivers.libvirt import templates
from logic.enums import OperState, Role
from logic.models import Backend, Server
from tests.factories import FlavorFactory, ImageFactory, token_client

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.django_db]

BUILTIN = (templates.BUILTIN_DIR / "domain.xml").read_text()


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text)
    return path


@pytest.fixture
def template_dir(tmp_path, settings):
    settings.CYCLADES = {**settings.CYCLADES, "LIBVIRT_TEMPLATE_DIR": str(tmp_path)}
    return tmp_path


@pytest.fixture
def member(db):
    return token_client(Role.MEMBER, headers={"HTTP_X_OPENSTACK_NOVA_API_VERSION": "2.1"})


def create(client, flavor) -> int:
    image = ImageFactory(name="debian")
    body = {"server": {"name": "lv1", "flavorRef": str(flavor.pk), "imageRef": str(image.id)}}
    resp = client.post("/compute/v2.1/servers", body, format="json")
    assert resp.status_code == 202, resp.content
    return int(resp.json()["server"]["id"])


def test_a_flavor_template_of_the_operator_changes_the_domain(template_dir, member, test_host, bus_settings, dispatch_all):
    flavor = FlavorFactory(name="lv.custom", vcpus=2, ram=256, disk=0, disk_template="diskless")
    custom = BUILTIN.replace("<on_crash>destroy</on_crash>", "<on_crash>restart</on_crash>").replace(
        "<name>${name}</name>", "<name>${name}</name>\n  <description>operator template for ${flavor}</description>"
    )
    write(template_dir, f"flavor-{flavor.name}.xml", custom)
    from logic.drivers.libvirt.backends import add_libvirt_backend

    add_libvirt_backend(uri="test:///default", name="lv-tpl.test")
    server_id = create(member, flavor)
    dispatch_all()
    dumpxml = test_host.lookupByName(Server.objects.get(pk=server_id).ganeti_name).XMLDesc(0)
    assert "<description>operator template for lv.custom</description>" in dumpxml
    assert "<on_crash>restart</on_crash>" in dumpxml
    assert "<vcpu placement='static'>2</vcpu>" in dumpxml and "<memory unit='KiB'>262144</memory>" in dumpxml
    # another flavor still gets the built-in template
    plain = FlavorFactory(name="lv.plain", vcpus=1, ram=128, disk=0, disk_template="diskless")
    other = test_host.lookupByName(Server.objects.get(pk=create(member, plain)).ganeti_name).XMLDesc(0)
    assert "<description>" not in other and "<on_crash>destroy</on_crash>" in other


BROKEN = [
    (
        BUILTIN.replace('<graphics type="vnc"', '<grafics type="vnc"'),
        ["<grafics>", "line 22"],
    ),
    (BUILTIN.replace("${vcpus}", "${cpus}"), ["<vcpu>", "${cpus}"]),
    (BUILTIN.replace("${memory_mib}", "lots"), ["<memory>", "lots"]),
    (BUILTIN.replace("</features>", ""), ["not well-formed"]),
    ("<domian type='test'><name>x</name></domian>", ["root element is <domian>"]),
]


@pytest.mark.parametrize(("text", "named"), BROKEN, ids=["unknown-element", "unknown-variable", "bad-value", "not-xml", "root"])
def test_a_broken_template_is_refused_at_backend_add_naming_the_element(template_dir, test_host, text, named):
    write(template_dir, "domain.xml", text)
    with pytest.raises(CommandError) as caught:
        call_command("backend-add", "--kind", "libvirt", "--uri", "test:///default", "--name", "lv-broken.test")
    message = str(caught.value)
    assert str(template_dir / "domain.xml") in message
    for part in named:
        assert part in message, message
    assert not Backend.objects.filter(name="lv-broken.test").exists()


def test_a_template_broken_after_backend_add_fails_the_create_before_libvirt_sees_it(
    template_dir, member, test_host, bus_settings
):
    from logic.drivers.libvirt.backends import add_libvirt_backend

    flavor = FlavorFactory(name="lv.late", vcpus=1, ram=128, disk=0, disk_template="diskless")
    add_libvirt_backend(uri="test:///default", name="lv-late.test")
    write(template_dir, f"flavor-{flavor.name}.xml", BUILTIN.replace("<acpi/>", "<acpi/><warp-drive/>"))
    server = Server.objects.get(pk=create(member, flavor))
    assert server.operstate == OperState.ERROR
    assert "<warp-drive>" in server.fault["message"]
    assert [d.name() for d in test_host.listAllDomains()] == []
