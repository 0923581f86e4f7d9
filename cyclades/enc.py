"""``cyclades-enc NODE``: Puppet's external node classifier, backed by the admin API.

Puppet runs it with the node's certname as the only argument and reads YAML
(``classes``/``parameters``) from standard output; a non-zero exit makes the
Puppet run fail for that node, which is what an unknown node must do.

Stdlib only (it runs on the Puppet server). Settings, first found wins: the
options, the environment (``CYCLADES_ENC_URL``, ``CYCLADES_ENC_TOKEN_FILE``,
``CYCLADES_ENC_CA_FILE``), then ``/etc/cyclades/enc.conf`` (``KEY=value`` lines,
same keys; another file with ``CYCLADES_ENC_CONFIG``). The token is an admin
API token (``cyclades-manage token-issue``), kept in a file only root can read.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_CONFIG = "/etc/cyclades/enc.conf"
DEFAULT_TOKEN_FILE = "/etc/cyclades/enc-token"


def read_config(path: str) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#") and "=" in line:
                    key, value = line.split("=", 1)
                    values[key.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return values


def fetch(url: str, node: str, token: str, *, accept: str, ca_file: str | None = None, timeout: float = 30) -> bytes:
    """The ENC document of ``node`` from the admin API at ``url`` (the service's base URL)."""
    target = f"{url.rstrip('/')}/admin/v1/enc/{urllib.parse.quote(node, safe='')}"
    request = urllib.request.Request(target, headers={"X-Auth-Token": token, "Accept": accept})
    context = ssl.create_default_context(cafile=ca_file) if target.startswith("https:") else None
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
        return response.read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="cyclades-enc", description="Puppet ENC: print a node's classes and parameters as YAML."
    )
    parser.add_argument("node", help="the node's name (Puppet passes its certname)")
    parser.add_argument("--url", help="the Cyclades API base URL (CYCLADES_ENC_URL)")
    parser.add_argument(
        "--token-file", help=f"file holding an admin API token (CYCLADES_ENC_TOKEN_FILE, default {DEFAULT_TOKEN_FILE})"
    )
    parser.add_argument("--ca-file", help="CA bundle for https (CYCLADES_ENC_CA_FILE)")
    args = parser.parse_args(argv)
    config = read_config(os.environ.get("CYCLADES_ENC_CONFIG", DEFAULT_CONFIG))

    def setting(value: str | None, key: str, default: str | None = None) -> str | None:
        return value or os.environ.get(key) or config.get(key) or default

    url = setting(args.url, "CYCLADES_ENC_URL")
    token_file = setting(args.token_file, "CYCLADES_ENC_TOKEN_FILE", DEFAULT_TOKEN_FILE)
    if not url:
        print("cyclades-enc: no API URL: set CYCLADES_ENC_URL or --url", file=sys.stderr)
        return 2
    try:
        with open(token_file, encoding="utf-8") as f:
            token = f.read().strip()
    except OSError as exc:
        print(f"cyclades-enc: cannot read the token file {token_file}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        body = fetch(url, args.node, token, accept="application/yaml", ca_file=setting(args.ca_file, "CYCLADES_ENC_CA_FILE"))
    except urllib.error.HTTPError as exc:
        print(f"cyclades-enc: {args.node}: {exc.code} {exc.read().decode('utf-8', 'replace')[:500]}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"cyclades-enc: {url} unreachable: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(body.decode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
