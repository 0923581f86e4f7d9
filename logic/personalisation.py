"""A Ganeti server's personalisation: hostname, SSH key, root password hash and user data, fetched once by its node.

At create and rebuild of a server deployed by our OS definition ``cyclades-image``, the
API prepares a cloud-init NoCloud seed (``meta-data`` and ``user-data``, the
:mod:`logic.config_drive` data model) plus ``/etc/hostname`` and root's
``authorized_keys``, and stores them on a second one-time, expiring grant
(:class:`~logic.models.ImageFetchGrant`, purpose ``personalise:...``). Ganeti's OS
parameters carry only the grant's id (``img_personal``); the node signs it with the fetch
key (as for the image data) and gets the files once from ``GET /image/personalise/<grant>``;
they are wiped from the database at that moment. The password is kept only as a SHA-512
crypt hash (``$6$``): the clear text is in the API's answer and nowhere else.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import hmac
import logging
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import timedelta
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from logic import config_drive, image_deploy
from logic.errors import InvalidInput, PolicyError
from logic.models import Image, ImageFetchGrant, Server

log = logging.getLogger(__name__)

PURPOSE = "personalise:"
SEED_DIR = "/var/lib/cloud/seed/nocloud"
_SALT = string.ascii_letters + string.digits + "./"
_crypt_lock = threading.Lock()
_libcrypt: Any = None


def _crypt(phrase: str, setting: str) -> str:
    """crypt(3) of libxcrypt (Python's own ``crypt`` module is gone in 3.13)."""
    global _libcrypt
    with _crypt_lock:  # crypt() returns a static buffer
        if _libcrypt is None:
            lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
            lib.crypt.restype = ctypes.c_char_p
            lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
            _libcrypt = lib
        out = _libcrypt.crypt(phrase.encode(), setting.encode())
    if not out or out.startswith(b"*"):
        raise InvalidInput("the password could not be hashed")
    return out.decode()


def hash_password(clear: str) -> str:
    """A SHA-512 crypt hash (``$6$<16 salt characters>$...``), what ``/etc/shadow`` and cloud-init take."""
    salt = "".join(secrets.choice(_SALT) for _ in range(16))
    return _crypt(clear, f"$6${salt}$")


def verify_password(clear: str, hashed: str) -> bool:
    """Whether ``clear`` is the password of a crypt hash."""
    return hmac.compare_digest(_crypt(clear, hashed), hashed)


@dataclass(frozen=True)
class Seed:
    """What a server is told about itself."""

    content: config_drive.DriveContent
    uuid: str
    password_hash: str | None = None


def hostname_of(server: Server) -> str:
    """The server's 2.90 hostname, else a DNS label from its name (else its instance name)."""
    return server.hostname or config_drive.hostname_for(server.name, server.ganeti_name)


def seed_for(server: Server, password_hash: str | None) -> Seed:
    keys = [line.strip() for line in (server.key_data or "").splitlines() if line.strip()]
    content = config_drive.DriveContent(
        instance_id=server.ganeti_name,
        hostname=hostname_of(server),
        name=server.name,
        public_keys=keys,
        user_data=config_drive.decode_user_data(server.user_data),
        meta={m.key: m.value for m in server.metadata.all()},
    )
    return Seed(content=content, uuid=str(server.pk), password_hash=password_hash)


def cloud_config(seed: Seed) -> dict[str, Any]:
    """Our cloud-config: hostname, keys (root's too: ``disable_root: false``), root's password hash."""
    fqdn = seed.content.hostname
    config: dict[str, Any] = {"hostname": fqdn.split(".", 1)[0], "preserve_hostname": False}
    if "." in fqdn:
        config["fqdn"] = fqdn
    if seed.content.public_keys:
        config["ssh_authorized_keys"] = list(seed.content.public_keys)
        config["disable_root"] = False
    if seed.password_hash:
        config["chpasswd"] = {"expire": False, "users": [{"name": "root", "password": seed.password_hash, "type": "HASH"}]}
    return config


def user_data(seed: Seed) -> bytes:
    """``#cloud-config`` of ours; with the user's data, a MIME multipart of ours first and theirs (which wins on merge)."""
    ours = "#cloud-config\n" + yaml.safe_dump(cloud_config(seed), default_flow_style=False, sort_keys=True)
    if not seed.content.user_data:
        return ours.encode()
    message = MIMEMultipart()
    message.attach(MIMEText(ours, "cloud-config", "utf-8"))
    try:
        theirs = seed.content.user_data.decode("utf-8")
    except UnicodeDecodeError:
        from email.mime.application import MIMEApplication

        message.attach(MIMEApplication(seed.content.user_data, "octet-stream"))
    else:
        message.attach(MIMEText(theirs, "plain", "utf-8"))  # cloud-init tells the kind by its first line
    return message.as_bytes()


def meta_data(seed: Seed) -> bytes:
    meta = yaml.safe_load(config_drive.files(seed.content, "nocloud")["meta-data"])
    meta["uuid"] = seed.uuid
    meta["hostname"] = seed.content.hostname
    return yaml.safe_dump(meta, default_flow_style=False, sort_keys=True).encode()


def files(seed: Seed) -> list[dict[str, Any]]:
    """The files to write into the guest's root filesystem: path, mode, data (bytes)."""
    out = [
        {"path": f"{SEED_DIR}/meta-data", "mode": 0o644, "data": meta_data(seed)},
        {"path": f"{SEED_DIR}/user-data", "mode": 0o600, "data": user_data(seed)},
        {"path": "/etc/hostname", "mode": 0o644, "data": seed.content.hostname.split(".", 1)[0].encode() + b"\n"},
    ]
    if seed.content.public_keys:
        keys = "".join(f"{key}\n" for key in seed.content.public_keys).encode()
        out.append({"path": "/root/.ssh/authorized_keys", "mode": 0o600, "data": keys})
    return out


def osparams(server: Server, image: Image, *, action: str, password_hash: str | None) -> dict[str, str]:
    """``img_personal``: the id of a fresh one-time grant for the server's personalisation (nothing secret)."""
    grant = secrets.token_urlsafe(24)
    ttl = int(settings.CYCLADES.get("IMAGE_FETCH_TTL", 3600))
    payload = [{**f, "data": base64.b64encode(f["data"]).decode()} for f in files(seed_for(server, password_hash))]
    ImageFetchGrant.objects.create(
        token_hash=image_deploy.grant_hash(grant),
        image=image,
        purpose=f"{PURPOSE}{action} of {server.ganeti_name}"[:255],
        expires_at=timezone.now() + timedelta(seconds=ttl),
        payload={"hostname": hostname_of(server), "files": payload},
    )
    return {"img_personal": grant}


def redeem(grant: str, signature: str | None) -> dict[str, Any]:
    """The personalisation a grant holds, once (then wiped); PolicyError for a bad signature or a used/expired grant."""
    if not signature or not hmac.compare_digest(image_deploy.sign(grant), signature):
        raise PolicyError("Invalid fetch signature.")
    now = timezone.now()
    rows = ImageFetchGrant.objects.filter(token_hash=image_deploy.grant_hash(grant), purpose__startswith=PURPOSE)
    row = rows.first()
    if row is None or rows.filter(Q(used_at__isnull=True) & Q(expires_at__gt=now)).update(used_at=now, payload=None) != 1:
        raise PolicyError("This personalisation grant is unknown, expired or already used.")
    log.info("personalisation fetched for %s", row.purpose[len(PURPOSE) :])
    return row.payload or {}
