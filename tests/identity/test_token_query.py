"""The prepared validation query loads exactly what the ORM loads."""

from __future__ import annotations

import pytest

from logic import identity, token_query
from logic.enums import Role
from logic.models import Membership, Project, Token, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_same_rows_as_the_orm():
    user = User.objects.create_user(name="q", password="pw", email="q@example.org")
    project = Project.objects.create(name="qp", description="d")
    Membership.objects.create(user=user, project=project, role=Role.READER)
    scoped, _ = identity.issue_token(user, project, methods=["password", "token"])
    unscoped, _ = identity.issue_token(user, None, kind=Token.Kind.API, description="api")

    for secret, role in ((scoped, Role.READER), (unscoped, None)):
        loaded, member_role = token_query.load_token(identity.digest(secret))
        orm = Token.objects.select_related("user", "project").get(digest=identity.digest(secret))
        assert member_role == role
        assert values(loaded) == values(orm)
        assert values(loaded.user) == values(orm.user)
        assert (loaded.project and values(loaded.project)) == (orm.project and values(orm.project))
        assert loaded.expires_at is None or loaded.expires_at.tzinfo is not None
        assert isinstance(loaded.methods, list)
        assert not loaded._state.adding and loaded.user._state.db == "default"
    assert token_query.load_token("0" * 64) is None


def test_loaded_rows_can_be_saved_and_used_as_foreign_keys():
    user = User.objects.create_user(name="r", password="pw")
    project = Project.objects.create(name="rp")
    secret, _ = identity.issue_token(user, project)
    loaded, _ = token_query.load_token(identity.digest(secret))
    Membership.objects.create(user=loaded.user, project=loaded.project, role=Role.MEMBER)
    loaded.revoked = True
    loaded.save(update_fields=["revoked"])
    with pytest.raises(identity.InvalidToken):
        identity.authenticate(secret)
