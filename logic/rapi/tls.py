"""Certificate pinning: trust exactly the cluster's own (self-signed) certificate."""

from __future__ import annotations

import hashlib
import re
import ssl
from typing import Any

from requests.adapters import HTTPAdapter

_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s+[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")


def extract_certificate(pem: str) -> str:
    """The first certificate block of ``pem``, alone.

    Ganeti's ``rapi.pem`` holds the private key AND the certificate: only the
    certificate may be pinned or stored. Raises ValueError if there is none.
    """
    match = _CERT_BLOCK.search(pem or "")
    if not match:
        raise ValueError("no PEM certificate (-----BEGIN CERTIFICATE-----) found")
    return match.group(0) + "\n"


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 fingerprint (hex) of a PEM certificate's DER form."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(extract_certificate(pem))).hexdigest()


def pinned_ssl_context(pem: str) -> ssl.SSLContext:
    """A client context that trusts exactly ``pem`` and does not check host names."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=extract_certificate(pem))
    return ctx


class PinnedAdapter(HTTPAdapter):
    """Hands urllib3 our pinned context and fingerprint, and stops requests loading public CAs."""

    def __init__(self, pem: str, **kwargs: Any) -> None:
        self._context = pinned_ssl_context(pem)
        self._fingerprint = certificate_fingerprint(pem)
        super().__init__(**kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, _ = super().build_connection_pool_key_attributes(request, verify, cert)
        return host_params, {
            "ssl_context": self._context,
            "cert_reqs": "CERT_REQUIRED",
            "assert_fingerprint": self._fingerprint,
        }

    def cert_verify(self, conn, url, verify, cert) -> None:
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None
