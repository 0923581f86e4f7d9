"""The options every ``reconcile-*`` command shares, and their backend selection."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.factories import BackendFactory

pytestmark = pytest.mark.django_db

COMMANDS = ["reconcile-servers", "reconcile-networks", "reconcile-volumes"]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_backend_is_refused_before_any_work(command):
    BackendFactory(name="known")
    with pytest.raises(CommandError, match="no such backend: nope, other"):
        call_command(command, "--backend", "known", "--backend", "nope", "--backend", "other")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_shared_options(command, capsys):
    from django.core.management import load_command_class

    parser = load_command_class("logic", command).create_parser("cyclades-manage", command)
    options = vars(parser.parse_args(["--fix", "--json", "--backend", "a", "--backend", "b"]))
    assert options["fix"] is True and options["json"] is True and options["backends"] == ["a", "b"]
