"""factory-boy factories for the data model, and a helper that issues a token."""

from __future__ import annotations

import factory

from logic import identity
from logic.enums import Role
from logic.models import Backend, Flavor, Image, Membership, Project, Server, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.name}@example.org")
    password = factory.django.Password("secret")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    role = Role.MEMBER


class BackendFactory(factory.django.DjangoModelFactory):
    """A backend row with plenty of room and no reachable RAPI (for tests that stub job submission)."""

    class Meta:
        model = Backend

    name = factory.Sequence(lambda n: f"cluster{n}.example.org")
    rapi_host = "127.0.0.1"
    rapi_user = "u"
    rapi_password_encrypted = "x"
    disk_templates = factory.LazyFunction(lambda: ["diskless", "file", "plain", "drbd"])
    mem_total = mem_free = 1 << 30
    disk_total = disk_free = 1 << 40
    cpu_total = cpu_free = 1 << 20


class FlavorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flavor

    name = factory.Sequence(lambda n: f"m{n}.tiny")
    vcpus = 1
    ram = 128
    disk = 1
    disk_template = "diskless"


class ImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Image

    name = factory.Sequence(lambda n: f"image-{n}")
    ganeti_os = "noop"
    size = 1024


class ServerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Server

    name = factory.Sequence(lambda n: f"server-{n}")
    user = factory.SubFactory(UserFactory)
    project = factory.SubFactory(ProjectFactory)
    flavor = factory.SubFactory(FlavorFactory)
    image = factory.SubFactory(ImageFactory)


def member_token(
    role: str = Role.MEMBER, *, user: User | None = None, project: Project | None = None
) -> tuple[str, User, Project]:
    """A user with ``role`` in a project and a token scoped to it: (token, user, project)."""
    user = user or UserFactory()
    project = project or ProjectFactory()
    Membership.objects.get_or_create(user=user, project=project, defaults={"role": role})
    token, _ = identity.issue_token(user, project)
    return token, user, project


def token_client(role: str = Role.MEMBER, *, headers: dict | None = None, **kw):
    """A DRF test client carrying a token of a user with ``role`` (see :func:`member_token`).

    The user and project are on the client as ``user_obj`` and ``project``.
    """
    from rest_framework.test import APIClient

    token, user, project = member_token(role, **kw)
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=token, **(headers or {}))
    client.user_obj, client.project = user, project
    return client
