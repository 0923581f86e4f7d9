"""The identity admin commands: scriptable, no prompts, clear errors, nothing changed on error."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from logic import identity
from logic.models import Membership, Project, Token, User

pytestmark = pytest.mark.postgres


def run(*args: str, stdin: str | None = None) -> str:
    out = io.StringIO()
    if stdin is not None:
        old, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        if stdin is not None:
            sys.stdin = old
    return out.getvalue().strip()


@pytest.mark.django_db
def test_create_users_projects_and_roles(tmp_path):
    project_id = run("project-create", "research", "--description", "Lab")
    assert Project.objects.get(id=project_id).description == "Lab"
    password_file = tmp_path / "pw"
    password_file.write_text("s3cret-from-file\nignored\n")
    alice = run("user-create", "alice", "--password-file", str(password_file), "--email", "a@example.org")
    bob = run("user-create", "bob", "--password-file", "-", "--project", "research", "--role", "reader", stdin="bob-pw\n")
    carol = run("user-create", "carol")  # no password: API tokens only
    assert User.objects.get(id=alice).check_password("s3cret-from-file")
    assert User.objects.get(id=bob).check_password("bob-pw")
    assert not User.objects.get(id=carol).has_usable_password()

    run("project-add-user", "research", "alice", "--role", "member")
    run("project-add-user", project_id, bob, "--role", "admin")  # by id; replaces bob's reader role
    roles = dict(Membership.objects.filter(project_id=project_id).values_list("user__name", "role"))
    assert roles == {"alice": "member", "bob": "admin"}

    users = json.loads(run("user-list", "--json"))
    assert {u["name"]: u["projects"] for u in users} == {"alice": "research:member", "bob": "research:admin", "carol": ""}
    assert "alice" in run("user-list")
    assert json.loads(run("project-list", "--json"))[0]["members"] in {"alice:member,bob:admin", "bob:admin,alice:member"}

    run("user-set-admin", "carol")
    assert User.objects.get(id=carol).is_admin
    run("user-set-admin", "carol", "--off")
    assert not User.objects.get(id=carol).is_admin
    run("user-set-password", "carol", "--password", "now-one")
    assert User.objects.get(id=carol).check_password("now-one")


@pytest.mark.django_db
def test_token_issue_disable_enable_revoke():
    run("project-create", "demo")
    run("user-create", "dave", "--password", "pw", "--project", "demo")
    token = run("token-issue", "dave", "--description", "ci")
    ctx = identity.authenticate(token)
    assert ctx.user.name == "dave" and ctx.project.name == "demo" and ctx.can_write
    row = ctx.token
    assert row.kind == Token.Kind.API and row.expires_at is None and row.description == "ci"

    short = run("token-issue", "dave", "--project", "demo", "--expires-in", "60")
    assert identity.authenticate(short).token.expires_at is not None

    run("user-disable", "dave")
    with pytest.raises(identity.InvalidToken):
        identity.authenticate(token)
    run("user-enable", "dave")
    assert identity.authenticate(token)
    assert "revoked 2 token(s)" in run("token-revoke", "dave")
    with pytest.raises(identity.InvalidToken):
        identity.authenticate(token)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        (("user-create", "erin", "--password", ""), "password is empty"),
        (("user-create", "erin", "--domain", "nowhere"), "no domain"),
        (("user-create", "erin", "--project", "nosuch"), "no project"),
        (("user-create", "erin", "--password-file", "/nonexistent/pw"), "cannot read"),
        (("project-add-user", "nosuch", "frank"), "no project"),
        (("user-disable", "nosuch"), "no user"),
        (("token-issue", "frank"), "0 projects"),
        (("token-issue", "frank", "--project", "demo"), "has no role"),
        (("token-issue", "frank", "--unscoped", "--expires-in", "0"), "positive"),
        (("project-create", "demo"), "already exists"),
        (("user-create", "frank"), "already exists"),
        (("project-remove-user", "demo", "frank"), "has no role"),
    ],
)
def test_errors_change_nothing(args, message):
    Project.objects.create(name="demo")
    User.objects.create_user(name="frank", password="pw")
    before = (User.objects.count(), Project.objects.count(), Membership.objects.count(), Token.objects.count())
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert (User.objects.count(), Project.objects.count(), Membership.objects.count(), Token.objects.count()) == before


@pytest.mark.slow
def test_shell_script(transactional_db, tmp_path):
    """The commands as an operator's script runs them: a new process, no terminal, exit statuses."""
    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "cyclades.settings"  # the product, not the test settings
    env["CYCLADES_DATABASE_URL"] = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    manage = str(Path(sys.executable).parent / "cyclades-manage")
    script = tmp_path / "setup.sh"
    script.write_text(
        f"""set -e
M={manage}
P=$($M project-create ops </dev/null)
U=$(echo 'ops-pass' | $M user-create ops --password-file - --project ops)
T=$($M token-issue ops </dev/null)
echo "$P $U $T"
"""
    )
    result = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    project_id, user_id, token = result.stdout.split()
    ctx = identity.authenticate(token)
    assert ctx.user.id == user_id and ctx.project.id == project_id
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.PBKDF2PasswordHasher"]):
        assert ctx.user.check_password("ops-pass")  # hashed by the product's hasher
    failed = subprocess.run([manage, "project-add-user", "ops", "nobody"], env=env, capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1 and "no user 'nobody'" in failed.stderr and "Traceback" not in failed.stderr
