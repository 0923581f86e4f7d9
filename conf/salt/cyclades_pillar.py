"""Salt external pillar: each Ganeti node's classification from Cyclades (the data of the Puppet ENC).

Install: copy this file into the master's ``extension_modules``/pillar directory
(e.g. ``/srv/salt/_pillar/cyclades_pillar.py``) and configure the master::

    ext_pillar:
      - cyclades_pillar:
          url: https://cyclades.example.org
          token_file: /etc/salt/cyclades-token    # an admin API token (cyclades-manage token-issue)
          ca_file: /etc/ssl/certs/ca-certificates.crt   # optional

The minion id is looked up as a node name; the pillar is ``{"cyclades": {"classes":
[...], "parameters": {...}}}``. A minion that is no Ganeti node gets an empty
pillar (``{}``): its other pillars still compile. Stdlib only.
"""

from __future__ import annotations

import json
import logging
import ssl
import urllib.error
import urllib.parse
import urllib.request

log = logging.getLogger(__name__)

__virtualname__ = "cyclades_pillar"


def __virtual__():
    return __virtualname__


def _fetch(url: str, node: str, token: str, ca_file: str | None, timeout: float) -> dict | None:
    target = f"{url.rstrip('/')}/admin/v1/enc/{urllib.parse.quote(node, safe='')}"
    request = urllib.request.Request(target, headers={"X-Auth-Token": token, "Accept": "application/json"})
    context = ssl.create_default_context(cafile=ca_file) if target.startswith("https:") else None
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def ext_pillar(minion_id, pillar, url=None, token_file=None, ca_file=None, timeout=30, **kwargs):
    """Salt calls ``ext_pillar(minion_id, pillar, **config)``; returns the pillar data to merge."""
    if not url or not token_file:
        log.error("cyclades_pillar: url and token_file must be configured")
        return {}
    try:
        with open(token_file, encoding="utf-8") as f:
            token = f.read().strip()
        document = _fetch(url, minion_id, token, ca_file, float(timeout))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        log.error("cyclades_pillar: %s: %s", minion_id, exc)
        return {}
    if document is None:
        return {}
    return {"cyclades": {"classes": sorted(document.get("classes", {})), "parameters": document.get("parameters", {})}}
