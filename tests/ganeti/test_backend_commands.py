"""The backend admin commands, against the real sandbox."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from logic.models import Backend
from tests.factories import ProjectFactory, ServerFactory

pytestmark = [pytest.mark.ganeti, pytest.mark.django_db]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def password_file(tmp_path, ganeti_sandbox):
    path = tmp_path / "rapi-password"
    path.write_text(ganeti_sandbox["GANETI_RAPI_PASSWORD"] + "\n")
    return str(path)


def add_args(env, password_file) -> list[str]:
    return [
        "backend-add",
        "--host",
        env["GANETI_RAPI_HOST"],
        "--port",
        env["GANETI_RAPI_PORT"],
        "--user",
        env["GANETI_RAPI_USER"],
        "--password-file",
        password_file,
        "--certificate-file",
        env["GANETI_RAPI_CERT"],
        "--name",
        "sandbox",
    ]


def test_backend_admin_commands_end_to_end(ganeti_sandbox, password_file, tmp_path):
    env = ganeti_sandbox
    added = json.loads(run(*add_args(env, password_file), "--json"))
    assert added["name"] == "sandbox" and added["hypervisor"] == "fake" and "file" in added["disk_templates"]
    assert len(added["certificate_sha256"]) == 64

    listed = json.loads(run("backend-list", "--json"))
    assert [b["name"] for b in listed] == ["sandbox"]
    assert "sandbox" in run("backend-list")  # the rich table
    assert "fake" in run("backend-show", "sandbox")
    assert env["GANETI_RAPI_PASSWORD"] not in run("backend-show", "sandbox", "--json")

    run("backend-drain", "sandbox")
    assert Backend.objects.get(name="sandbox").drained
    run("backend-undrain", "sandbox")
    assert not Backend.objects.get(name="sandbox").drained

    project = ProjectFactory()
    shown = json.loads(run("backend-modify", "sandbox", "--pin-project", project.name, "--json"))
    assert shown["pinned_projects"] == [project.id]
    run("backend-modify", "sandbox", "--unpin-project", project.id, "--reencrypt")
    assert Backend.objects.get(name="sandbox").rapi_password == env["GANETI_RAPI_PASSWORD"]

    # a wrong new password is refused by the check and not saved
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    with pytest.raises(CommandError, match="do not work"):
        run("backend-modify", "sandbox", "--password-file", str(wrong))
    assert Backend.objects.get(name="sandbox").rapi_password == env["GANETI_RAPI_PASSWORD"]

    Backend.objects.filter(name="sandbox").update(mem_free=0)
    refreshed = json.loads(run("backend-refresh-stats", "sandbox", "--json"))
    assert refreshed[0]["mem_free_mib"] > 0

    run("backend-set-offline", "sandbox")
    assert Backend.objects.get(name="sandbox").offline
    with pytest.raises(CommandError, match="could not be refreshed"):
        run("backend-refresh-stats", "sandbox")
    run("backend-set-offline", "sandbox", "--online")
    assert not Backend.objects.get(name="sandbox").offline

    server = ServerFactory(backend=Backend.objects.get(name="sandbox"))
    with pytest.raises(CommandError, match="still has 1 server"):
        run("backend-remove", "sandbox")
    server.delete()
    run("backend-remove", "sandbox")
    assert not Backend.objects.exists()


def test_backend_add_password_from_environment_and_refusals(ganeti_sandbox, password_file, monkeypatch):
    env = ganeti_sandbox
    args = [a for a in add_args(env, password_file) if a not in {"--password-file", password_file}]
    with pytest.raises(CommandError, match="--password-file"):
        run(*args)
    monkeypatch.setenv("CYCLADES_BACKEND_RAPI_PASSWORD", "wrong-password")
    with pytest.raises(CommandError, match="refused the credentials"):
        run(*args)
    assert not Backend.objects.exists()
    monkeypatch.setenv("CYCLADES_BACKEND_RAPI_PASSWORD", env["GANETI_RAPI_PASSWORD"])
    run(*args)
    assert Backend.objects.get(name="sandbox").rapi_password == env["GANETI_RAPI_PASSWORD"]
    with pytest.raises(CommandError, match="exists already"):
        run(*args)
    with pytest.raises(CommandError, match="no backend 'nope'"):
        run("backend-show", "nope")
