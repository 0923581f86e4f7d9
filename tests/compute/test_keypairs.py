"""Keypairs over HTTP: import, server-side generation, fingerprints, shapes and statuses per microversion."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from rest_framework.test import APIClient

from logic.enums import Role
from logic.models import Keypair
from tests.factories import UserFactory, member_token

pytestmark = pytest.mark.django_db

V21 = "/compute/v2.1"
TEMPEST_KEY = (
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCsNe3/1ILNCqFyfYWDeTKLD6jEXC2OQHLmietMWW+/vdaZq7KZEwO0jhglaFjU1mpqq4Gz5RX156sCTNM9vRbw"
    "KAxfsdF9laBYVsex3m3Wmui3uYrKyumsoJn2g9GNnG1PI1mrVjZ61i0GY3khna+wzlTpCCmy5HNlrmbj3XLqBUpipTOXmsnr4sChzC53KCd8LXuwc1i/CZPvF+3Xi"
    "pvAgFSE53pCtLOeB1kYMOBaiUPLQTWXR3JpckqFIQwhIH0zoHlJvZE8hh90XcPojYN56tI0OlrGqojbediJYD0rUsJu4weZpbn8vilb3JuDY+jwssnSA8wzBx3A/"
    "8y9Pp1B nova@ubuntu"
)


def at(version: str) -> dict:
    return {"HTTP_OPENSTACK_API_VERSION": f"compute {version}"}


def md5_colon(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_import_at_2_1_returns_200_with_md5_fingerprint_and_no_type(member):
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "kp1", "public_key": TEMPEST_KEY}}, format="json")
    assert resp.status_code == 200
    kp = resp.json()["keypair"]
    assert set(kp) == {"name", "public_key", "fingerprint", "user_id"}
    assert kp["fingerprint"] == md5_colon(TEMPEST_KEY)
    assert kp["user_id"] == member.user_obj.pk


def test_generated_key_pair_returns_the_private_key_once(member):
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "gen"}}, format="json")
    assert resp.status_code == 200
    kp = resp.json()["keypair"]
    private = serialization.load_pem_private_key(kp["private_key"].encode(), password=None)
    public_line = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert kp["public_key"].startswith(public_line)
    assert kp["fingerprint"] == md5_colon(kp["public_key"])
    assert "private_key" not in member.get(f"{V21}/os-keypairs/gen").json()["keypair"]
    assert "private_key" not in str(Keypair.objects.get(name="gen").__dict__)


def test_list_show_delete_at_2_1(member):
    created = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "a b-c_d", "public_key": TEMPEST_KEY}}, format="json").json()
    listed = member.get(f"{V21}/os-keypairs").json()
    assert listed == {
        "keypairs": [
            {"keypair": {"name": "a b-c_d", "public_key": TEMPEST_KEY, "fingerprint": created["keypair"]["fingerprint"]}}
        ]
    }
    shown = member.get(f"{V21}/os-keypairs/a b-c_d").json()["keypair"]
    assert set(shown) == {
        "name",
        "public_key",
        "fingerprint",
        "user_id",
        "created_at",
        "updated_at",
        "deleted_at",
        "deleted",
        "id",
    }
    assert shown["deleted"] is False and isinstance(shown["id"], int)
    assert member.delete(f"{V21}/os-keypairs/a b-c_d").status_code == 202
    assert member.get(f"{V21}/os-keypairs/a b-c_d").status_code == 404
    assert member.delete(f"{V21}/os-keypairs/a b-c_d").status_code == 404


def test_type_status_codes_from_2_2(member):
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "t", "public_key": TEMPEST_KEY}}, format="json", **at("2.2"))
    assert resp.status_code == 201
    assert resp.json()["keypair"]["type"] == "ssh"
    assert member.get(f"{V21}/os-keypairs", **at("2.2")).json()["keypairs"][0]["keypair"]["type"] == "ssh"
    assert member.get(f"{V21}/os-keypairs/t", **at("2.2")).json()["keypair"]["type"] == "ssh"
    assert member.delete(f"{V21}/os-keypairs/t", **at("2.2")).status_code == 204


def test_x509_generated_and_imported(member):
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "x", "type": "x509"}}, format="json", **at("2.2"))
    assert resp.status_code == 201, resp.json()
    kp = resp.json()["keypair"]
    assert kp["type"] == "x509" and kp["public_key"].startswith("-----BEGIN CERTIFICATE-----")
    assert len(kp["fingerprint"].split(":")) == 20  # SHA-1
    again = member.post(
        f"{V21}/os-keypairs",
        {"keypair": {"name": "y", "type": "x509", "public_key": kp["public_key"]}},
        format="json",
        **at("2.2"),
    )
    assert again.status_code == 201 and again.json()["keypair"]["fingerprint"] == kp["fingerprint"]
    assert "type" not in member.post(f"{V21}/os-keypairs", {"keypair": {"name": "z"}}, format="json").json()["keypair"]


def test_ed25519_import(member):
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " me@host"
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "ed", "public_key": line}}, format="json")
    assert resp.status_code == 200 and resp.json()["keypair"]["fingerprint"] == md5_colon(line)


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "k", "public_key": "ssh-rsa JUNK nova@ubuntu"},
        {"name": "k", "public_key": " "},
        {"name": "k", "public_key": "ssh-rsa " + "A" * 2048 + " openstack@ubuntu"},
        {"name": ""},
        {"name": "keypair-".ljust(260, "0")},
        {"name": r"key_/.\@:"},
        {"name": 5},
        {"name": "k", "public_key": 5},
        {"name": "k", "type": "ssh"},  # type needs 2.2
        {"name": "k", "bogus": 1},
    ],
)
def test_invalid_is_400_and_creates_nothing(member, spec):
    resp = member.post(f"{V21}/os-keypairs", {"keypair": spec}, format="json")
    assert resp.status_code == 400, resp.json()
    assert resp.json()["badRequest"]["message"]
    assert not Keypair.objects.exists()


def test_duplicate_name_is_409(member):
    member.post(f"{V21}/os-keypairs", {"keypair": {"name": "dup", "public_key": TEMPEST_KEY}}, format="json")
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "dup"}}, format="json")
    assert resp.status_code == 409


def test_keypairs_are_per_user(member, other):
    member.post(f"{V21}/os-keypairs", {"keypair": {"name": "mine", "public_key": TEMPEST_KEY}}, format="json")
    assert other.get(f"{V21}/os-keypairs").json() == {"keypairs": []}
    assert other.get(f"{V21}/os-keypairs/mine").status_code == 404
    assert other.delete(f"{V21}/os-keypairs/mine").status_code == 404
    # the same name is free for another user
    assert (
        other.post(f"{V21}/os-keypairs", {"keypair": {"name": "mine", "public_key": TEMPEST_KEY}}, format="json").status_code
        == 200
    )


def test_reader_cannot_create_or_delete(reader):
    assert reader.post(f"{V21}/os-keypairs", {"keypair": {"name": "r"}}, format="json").status_code == 403
    assert reader.get(f"{V21}/os-keypairs").status_code == 200


def test_quota(member, settings):
    settings.CYCLADES = {**settings.CYCLADES, "QUOTA_KEY_PAIRS": 1}
    assert (
        member.post(f"{V21}/os-keypairs", {"keypair": {"name": "one", "public_key": TEMPEST_KEY}}, format="json").status_code
        == 200
    )
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "two", "public_key": TEMPEST_KEY}}, format="json")
    assert resp.status_code == 403 and "Quota exceeded" in resp.json()["forbidden"]["message"]


def test_paging_from_2_35(member):
    for name in ("a", "b", "c"):
        member.post(f"{V21}/os-keypairs", {"keypair": {"name": name, "public_key": TEMPEST_KEY}}, format="json")
    page = member.get(f"{V21}/os-keypairs", {"limit": 2}, **at("2.35")).json()
    assert [k["keypair"]["name"] for k in page["keypairs"]] == ["a", "b"]
    assert "marker=b" in page["keypairs_links"][0]["href"]
    rest = member.get(f"{V21}/os-keypairs", {"marker": "b"}, **at("2.35")).json()
    assert [k["keypair"]["name"] for k in rest["keypairs"]] == ["c"] and "keypairs_links" not in rest
    assert member.get(f"{V21}/os-keypairs", {"marker": "zz"}, **at("2.35")).status_code == 400
    # at 2.1 the paging parameters are ignored (and no links appear)
    assert len(member.get(f"{V21}/os-keypairs", {"limit": 1}).json()["keypairs"]) == 3


def test_admin_acts_for_another_user_from_2_10(member):
    admin_user = UserFactory(is_admin=True)
    token, _, _ = member_token(Role.ADMIN, user=admin_user)
    admin = APIClient()
    admin.credentials(HTTP_X_AUTH_TOKEN=token, **at("2.10"))
    resp = admin.post(f"{V21}/os-keypairs", {"keypair": {"name": "forhim", "user_id": member.user_obj.pk}}, format="json")
    assert resp.status_code == 201 and resp.json()["keypair"]["user_id"] == member.user_obj.pk
    assert member.get(f"{V21}/os-keypairs/forhim").status_code == 200
    assert admin.get(f"{V21}/os-keypairs/forhim", {"user_id": member.user_obj.pk}).status_code == 200
    assert admin.delete(f"{V21}/os-keypairs/forhim?user_id={member.user_obj.pk}").status_code == 204
    # a member cannot act for someone else
    resp = member.post(f"{V21}/os-keypairs", {"keypair": {"name": "x", "user_id": admin_user.pk}}, format="json", **at("2.10"))
    assert resp.status_code == 403


def test_2_92_requires_a_public_key_and_allows_more_name_characters(member):
    assert member.post(f"{V21}/os-keypairs", {"keypair": {"name": "k"}}, format="json", **at("2.92")).status_code == 400
    resp = member.post(
        f"{V21}/os-keypairs", {"keypair": {"name": "me@host.x", "public_key": TEMPEST_KEY}}, format="json", **at("2.92")
    )
    assert resp.status_code == 201
