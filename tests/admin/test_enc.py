"""Puppet ENC (the real ``cyclades-enc`` script, YAML parsed) and the Salt pillar module (Salt's calling
convention), against the live test server and the real Ganeti sandbox's node."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from logic import identity
from logic.admin import nodes

pytestmark = [pytest.mark.postgres, pytest.mark.ganeti]

ROOT = Path(__file__).parents[2]
ENC = Path(sys.executable).parent / "cyclades-enc"


@pytest.fixture
def enc_setup(live_identity, sandbox_backend, tmp_path):
    """The sandbox's master node tagged hypervisor+storage, and an admin token in a file."""
    [node] = [n for n in nodes.inventory(sandbox_backend) if n.role == "master"]
    nodes.set_tags(sandbox_backend, node.name, ["hypervisor", "storage"])
    token, _ = identity.issue_token(live_identity.admin.user, live_identity.project)
    token_file = tmp_path / "enc-token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    member_file = tmp_path / "member-token"
    member_file.write_text(live_identity.member.token)
    return {
        "url": live_identity.url,
        "token_file": str(token_file),
        "member_file": str(member_file),
        "node": node,
        "backend": sandbox_backend,
    }


def run_enc(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CYCLADES_ENC")}
    clean["CYCLADES_ENC_CONFIG"] = "/nonexistent"
    return subprocess.run([str(ENC), *args], env=clean | env, capture_output=True, text=True, timeout=60)


def test_puppet_enc_script_prints_the_node_classification(enc_setup):
    node = enc_setup["node"]
    proc = run_enc(node.name, CYCLADES_ENC_URL=enc_setup["url"], CYCLADES_ENC_TOKEN_FILE=enc_setup["token_file"])
    assert proc.returncode == 0, proc.stderr
    document = yaml.safe_load(proc.stdout)
    assert set(document) == {"classes", "parameters"}
    assert {
        "cyclades::ganeti::node",
        "cyclades::ganeti::master_candidate",
        "cyclades::eventd",
        "cyclades::role::hypervisor",
        "cyclades::role::storage",
    } <= set(document["classes"])
    assert document["classes"]["cyclades::eventd"] == {"cluster": enc_setup["backend"].name}
    params = document["parameters"]
    assert params["ganeti_role"] == "master" and params["ganeti_group"] == node.group
    assert params["cyclades_tags"] == ["hypervisor", "storage"] and params["cyclades_maintenance"] is False
    assert params["ganeti_cpu_total"] == node.cpu_total and params["ganeti_mem_total_mib"] == node.mem_total


def test_enc_options_and_failures(enc_setup, tmp_path):
    config = tmp_path / "enc.conf"
    config.write_text(f"# comment\nCYCLADES_ENC_URL = {enc_setup['url']}\nCYCLADES_ENC_TOKEN_FILE={enc_setup['token_file']}\n")
    short = enc_setup["node"].name.split(".")[0]
    proc = run_enc(short, CYCLADES_ENC_CONFIG=str(config))
    assert proc.returncode == 0 and yaml.safe_load(proc.stdout)["parameters"]["ganeti_role"] == "master"
    unknown = run_enc(
        "no-such-node.example.org", CYCLADES_ENC_URL=enc_setup["url"], CYCLADES_ENC_TOKEN_FILE=enc_setup["token_file"]
    )
    assert unknown.returncode == 1 and "404" in unknown.stderr and unknown.stdout == ""
    member = run_enc(short, CYCLADES_ENC_URL=enc_setup["url"], CYCLADES_ENC_TOKEN_FILE=enc_setup["member_file"])
    assert member.returncode == 1 and "403" in member.stderr
    assert run_enc(short).returncode == 2
    assert run_enc(short, "--url", enc_setup["url"], "--token-file", str(tmp_path / "missing")).returncode == 2


def load_pillar_module():
    spec = importlib.util.spec_from_file_location("cyclades_pillar", ROOT / "conf/salt/cyclades_pillar.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_salt_ext_pillar_with_salts_calling_convention(enc_setup):
    pillar_module = load_pillar_module()
    assert pillar_module.__virtual__() == "cyclades_pillar"
    config = {"url": enc_setup["url"], "token_file": enc_setup["token_file"]}  # the master's ext_pillar mapping
    data = pillar_module.ext_pillar(enc_setup["node"].name, {"already": "there"}, **config)
    assert "cyclades::role::storage" in data["cyclades"]["classes"]
    assert data["cyclades"]["parameters"]["ganeti_role"] == "master"
    assert pillar_module.ext_pillar("web-01", {}, **config) == {}  # not a Ganeti node: an empty pillar, no error
    assert pillar_module.ext_pillar(enc_setup["node"].name, {}) == {}  # not configured: logged, empty
