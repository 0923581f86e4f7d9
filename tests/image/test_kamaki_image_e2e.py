"""The real kamaki 0.16 ``image`` commands (Synnefo's Plankton API, ``/image/v1.0``) against the whole stack.

kamaki finds the image endpoint in the v2.0 catalog (``cyclades_plankton``, v1.0) and
speaks Plankton: listings as bare JSON lists, metadata as ``X-Image-Meta-*`` headers
(HEAD for ``info``, PUT for ``modify``), ``register`` by a Pithos location, which here
names a file in the stack's IMAGE_IMPORT_DIR (administrators only; no Pithos).
"""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from tests import services
from tests.identity.test_v2_kamaki import KAMAKI_DIR, PYTHON2, run_kamaki

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def kamaki(core_loop, loop_client, tmp_path_factory):
    """``kamaki(user, *args)``: the real kamaki with a v2.0 token of that account's project."""
    if not (os.path.isfile(os.path.join(KAMAKI_DIR, "bin", "kamaki")) and os.path.isfile(PYTHON2)):
        services.missing("kamaki 0.16 (Python 2.7)", f"no {KAMAKI_DIR}/bin/kamaki or no {PYTHON2}; run scripts/kamaki.sh")

    def run(user: str, *args: str, ok: bool = True):
        token = loop_client(user).http.headers["X-Auth-Token"]
        home = tmp_path_factory.mktemp(f"kamaki-{user}")
        result = run_kamaki(home, core_loop.url + "/identity/v2.0", token, *args)
        if ok:
            assert result.returncode == 0, f"kamaki {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    return run


def field(text: str, name: str) -> str:
    match = re.search(rf"^\s*{re.escape(name)}:\s*(.*?)\s*$", text, re.MULTILINE)
    assert match, f"no {name} in:\n{text}"
    return match.group(1)


def test_kamaki_image_list_info_modify(kamaki, loop_client, tmp_path):
    data = os.urandom(70_000)
    client = loop_client("demo1")
    name = f"kamaki-img-{os.getpid()}"
    created = client.post("/image/v2/images", {"name": name, "disk_format": "raw", "container_format": "bare",
                                               "osfamily": "linux"}).json()  # fmt: skip
    image_id = created["id"]
    put = client.http.put(f"{client.url}/image/v2/images/{image_id}/file", data=data, timeout=60,
                          headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert put.status_code == 204
    try:
        listed = kamaki("demo1", "image", "list").stdout
        assert image_id in listed and name in listed
        detailed = kamaki("demo1", "image", "list", "--details", "--property", "osfamily=linux").stdout
        assert image_id in detailed
        assert image_id not in kamaki("demo1", "image", "list", "--property", "osfamily=windows").stdout

        info = kamaki("demo1", "image", "info", image_id).stdout
        assert field(info, "name") == name and field(info, "status") == "active"
        assert field(info, "checksum") == hashlib.md5(data).hexdigest()
        assert field(info, "osfamily") == "linux"
        assert "demo" in field(info, "owner")  # named through /identity/account/v1.0/user_catalogs

        kamaki("demo1", "image", "modify", image_id, "--name", name + "-b", "--property-set", "users=root")
        shown = client.get(f"/image/v2/images/{image_id}").json()
        assert shown["name"] == name + "-b" and shown["users"] == "root" and shown["osfamily"] == "linux"
        # kamaki 0.16's --property-del cannot work against any server: it upper-cases the key to delete and
        # still sends the lower-case one it read; properties are removed with Glance v2 (or the Nova proxy)

        # another project sees nothing of it
        assert image_id not in kamaki("alt1", "image", "list").stdout
        refused = kamaki("alt1", "image", "info", image_id, ok=False)
        assert refused.returncode != 0 and "404" in refused.stdout + refused.stderr
    finally:
        client.delete(f"/image/v2/images/{image_id}")


def test_kamaki_image_register_and_unregister(kamaki, core_loop, loop_client):
    admin = core_loop.facts["admin"]["username"]
    data = os.urandom(90_000)
    folder = core_loop.workdir / "import" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "disk.raw").write_bytes(data)
    name = f"kamaki-reg-{os.getpid()}"
    out = kamaki(admin, "image", "register", "--name", name, "--location", "/images/disk.raw", "--no-metafile-upload",
                 "--property", "osfamily=linux").stdout  # fmt: skip
    image_id = field(out, "id")
    shown = loop_client(admin).get(f"/image/v2/images/{image_id}").json()
    assert shown["status"] == "active" and shown["name"] == name and shown["osfamily"] == "linux"
    assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert name in kamaki(admin, "image", "list").stdout

    # a member may not register; nor may anyone register a file outside the import directory
    before = loop_client("demo1").get("/image/v2/images").json()["images"]
    refused = kamaki("demo1", "image", "register", "--name", "nope", "--location", "/images/disk.raw", "--no-metafile-upload",
                     ok=False)  # fmt: skip
    assert refused.returncode != 0 and "403" in refused.stdout + refused.stderr
    escaped = kamaki(admin, "image", "register", "--name", "nope", "--location", "/images/../../../etc/passwd",
                     "--no-metafile-upload", ok=False)  # fmt: skip
    assert escaped.returncode != 0
    assert loop_client("demo1").get("/image/v2/images").json()["images"] == before

    kamaki(admin, "image", "unregister", image_id)
    assert loop_client(admin).get(f"/image/v2/images/{image_id}").status_code == 404
