"""Identity fixtures for every area's tests (registered in tests/conftest.py).

* ``identity_accounts``: a demo project with a member, a reader, a cloud admin,
  and a second project with its own member; each account has a password and a
  token scoped to its project. Database only (use with the Django test client).
* ``live_identity``: the same accounts plus the URL of the running test server
  (pytest-django's ``live_server``, so the test runs with ``transactional_db``);
  ``PUBLIC_URL`` points at that server so the service catalog is right. Use
  ``live_identity.os_env(live_identity.member)`` for the ``openstack`` CLI and
  ``live_identity.connect(...)`` for openstacksdk.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from logic import identity
from logic.enums import Role
from logic.models import Membership, Project, User


@dataclass
class Account:
    """A user with a password, and a token scoped to ``project``."""

    user: User
    password: str
    project: Project
    role: str | None
    token: str

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Auth-Token": self.token}


@dataclass
class IdentityAccounts:
    project: Project
    member: Account
    reader: Account
    admin: Account  # cloud administrator (User.is_admin), token scoped to ``project``
    other_project: Project
    other: Account  # member of ``other_project`` only
    url: str = ""  # base URL of the live server ("" without one)
    extra: dict = field(default_factory=dict)

    @property
    def auth_url(self) -> str:
        return self.url + "/identity"

    def os_env(self, account: Account) -> dict[str, str]:
        """``OS_*`` variables for the ``openstack`` CLI, password auth scoped to the account's project."""
        return {
            "OS_AUTH_URL": self.auth_url,
            "OS_AUTH_TYPE": "password",
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": account.name,
            "OS_PASSWORD": account.password,
            "OS_PROJECT_NAME": account.project.name,
            "OS_USER_DOMAIN_NAME": "Default",
            "OS_PROJECT_DOMAIN_NAME": "Default",
            "OS_REGION_NAME": "RegionOne",
            "OS_INTERFACE": "public",
        }

    def connect(self, account: Account, **kwargs):
        """An openstacksdk Connection for ``account`` (password auth), not yet authorized."""
        import openstack

        return openstack.connect(
            auth_url=self.auth_url,
            username=account.name,
            password=account.password,
            project_name=account.project.name,
            user_domain_name="Default",
            project_domain_name="Default",
            region_name="RegionOne",
            load_yaml_config=False,
            load_envvars=False,
            **kwargs,
        )


def make_account(name: str, project: Project, role: str | None, *, is_admin: bool = False) -> Account:
    password = f"{name}-pass-0123"
    user = User.objects.create_user(name=name, password=password, email=f"{name}@example.org", is_admin=is_admin)
    if role is not None:
        Membership.objects.create(user=user, project=project, role=role)
    token, _ = identity.issue_token(user, project)
    return Account(user=user, password=password, project=project, role=role, token=token)


def build_accounts() -> IdentityAccounts:
    project = Project.objects.create(name="demo", description="Demo project")
    other_project = Project.objects.create(name="other", description="Another tenant")
    return IdentityAccounts(
        project=project,
        member=make_account("demo", project, Role.MEMBER),
        reader=make_account("demo-reader", project, Role.READER),
        admin=make_account("cloud-admin", project, None, is_admin=True),
        other_project=other_project,
        other=make_account("other", other_project, Role.MEMBER),
    )


@pytest.fixture
def identity_accounts(db) -> IdentityAccounts:
    """Demo project, member/reader/admin accounts with tokens (database only)."""
    return build_accounts()


@pytest.fixture
def live_identity(live_server, transactional_db, monkeypatch) -> IdentityAccounts:
    """``identity_accounts`` on the running test server, with PUBLIC_URL pointing at it."""
    from django.conf import settings

    monkeypatch.setitem(settings.CYCLADES, "PUBLIC_URL", live_server.url)
    accounts = build_accounts()
    accounts.url = live_server.url
    return accounts
