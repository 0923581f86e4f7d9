"""``cyclades-manage shell`` preloads models, logic modules and the backends' RAPI clients."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def run(code: str) -> str:
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        call_command("shell", "-c", code, verbosity=0)
    return out.getvalue()


def test_models_and_logic_are_preloaded():
    out = run("print(Server.__name__, Backend.objects.count(), servers.__name__, nodes.__name__, records.__name__)")
    assert out.split() == ["Server", "0", "logic.servers", "logic.admin.nodes", "logic.usage.records"]


@pytest.mark.ganeti
def test_a_rapi_client_per_backend_talks_to_ganeti(sandbox_backend):
    out = run(f"print(sorted(rapi)); print(rapi[{sandbox_backend.name!r}].get_info()['name'])")
    assert out.splitlines() == [str([sandbox_backend.name]), sandbox_backend.name]
