"""API clients with tokens, for the APIs that take no microversion headers (image, network).

The compute tests override these with clients that send the compute microversion.
"""

from __future__ import annotations

import pytest

from logic.enums import Role
from tests.factories import UserFactory, token_client


@pytest.fixture
def member(db):
    """A member of a fresh project."""
    return token_client(Role.MEMBER)


@pytest.fixture
def reader(member):
    """A reader in ``member``'s project."""
    return token_client(Role.READER, project=member.project)


@pytest.fixture
def other(db):
    """A member of another project."""
    return token_client(Role.MEMBER)


@pytest.fixture
def admin(db):
    """A cloud administrator."""
    return token_client(Role.ADMIN, user=UserFactory(is_admin=True))
