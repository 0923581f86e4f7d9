"""One-time, expiring, signed fetch grants for the Ganeti OS definition; what goes into Ganeti's OS parameters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from logic import ganeti_jobs, image_deploy
from logic.errors import PolicyError
from logic.models import ImageFetchGrant
from tests.factories import ImageFactory, ServerFactory

pytestmark = pytest.mark.django_db
DATA = b"disk image bytes " * 1000


@pytest.fixture
def stored(tmp_path, monkeypatch):
    """An active image in a private file store, and a fetch key."""
    key = tmp_path / "fetch.key"
    assert image_deploy.ensure_key_file(key) and not image_deploy.ensure_key_file(key)
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FETCH_KEY_FILE", str(key))
    path = tmp_path / "img"
    path.write_bytes(DATA)
    monkeypatch.setitem(settings.CYCLADES, "IMAGE_FILE_DIR", str(tmp_path))
    return ImageFactory(ganeti_os="cyclades-image+default", store="file", location=f"file://{path}", size=len(DATA),
                        os_hash_value="abc", ganeti_osparams={"extra": "1"})  # fmt: skip


def test_osparams_carry_a_grant_and_no_secret(stored):
    server = ServerFactory(image=stored)
    params = ganeti_jobs.osparams_for(stored, server, "create")
    assert params["extra"] == "1" and params["img_id"] == str(stored.pk) and params["img_sha512"] == "abc"
    assert params["img_size"] == str(len(DATA)) and params["img_url"]
    key = image_deploy.fetch_key().decode()
    assert not any(key in str(v) for v in params.values())
    row = ImageFetchGrant.objects.exclude(purpose__startswith="personalise:").get()
    assert row.token_hash != params["img_grant"]  # only the hash is stored
    assert set(params) == {"extra", "img_id", "img_url", "img_grant", "img_sha512", "img_size", "img_personal"}


def test_a_grant_serves_once_with_the_right_signature(stored):
    grant = image_deploy.deploy_osparams(stored, purpose="test")["img_grant"]
    with pytest.raises(PolicyError):
        image_deploy.redeem(grant, "0" * 64)
    with pytest.raises(PolicyError):
        image_deploy.redeem(grant, None)
    got = image_deploy.redeem(grant, image_deploy.sign(grant))  # the bad tries did not use it up
    assert b"".join(got.chunks) == DATA
    with pytest.raises(PolicyError, match="already used"):
        image_deploy.redeem(grant, image_deploy.sign(grant))


def test_an_expired_grant_serves_nothing(stored):
    grant = image_deploy.deploy_osparams(stored, purpose="test")["img_grant"]
    ImageFetchGrant.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(PolicyError, match="expired"):
        image_deploy.redeem(grant, image_deploy.sign(grant))
    assert image_deploy.purge_expired(before=timedelta(0)) == 1


def test_fetch_over_http(stored, client):
    grant = image_deploy.deploy_osparams(stored, purpose="test")["img_grant"]
    assert client.get(f"/image/fetch/{grant}").status_code == 403
    ok = client.get(f"/image/fetch/{grant}", HTTP_X_CYCLADES_GRANT_SIGNATURE=image_deploy.sign(grant))
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == DATA


def test_noop_images_get_no_grant(db):
    image = ImageFactory(ganeti_os="noop")
    assert ganeti_jobs.osparams_for(image, ServerFactory(image=image), "create") == {}
    assert not ImageFetchGrant.objects.exists()
