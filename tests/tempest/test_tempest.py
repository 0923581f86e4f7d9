"""tempest's own compute tests against the whole stack on the real Ganeti sandbox.

Runs the compute issue's acceptance set (``run_tempest.ISSUE_REGEX``) with the
unmodified tempest 47.0.0 on its own stack (own database, vhost and Ganeti prefix),
and requires zero failures. The counts and every skip's reason are printed.
"""

from __future__ import annotations

import json

import pytest

from tests import services
from tests.tempest import run_tempest
from tests.tempest import stack as stackmod

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(2400)]

# Skips the configuration really asks for: features this cloud does not offer.
EXPECTED_SKIP_REASONS = (
    "not available",  # pause, suspend, shelve
    "volume",  # no volume service yet
    "validation",  # no SSH into the fake hypervisor's VMs
    "Personality",
    "microversion",  # classes above the advertised maximum
)


def test_compute_acceptance_set_passes(capsys):
    if found := stackmod.problems():
        services.missing("the whole stack", "; ".join(found))
    code = run_tempest.main(["--regex", run_tempest.ISSUE_REGEX])
    summary = json.loads((run_tempest.WORKSPACE / "summary.json").read_text())
    with capsys.disabled():
        print("\n" + run_tempest.report(summary))
    assert summary["failed"] == 0, summary["failures"]
    assert code == 0
    assert summary["passed"] >= 100, "the acceptance set ran far fewer tests than it holds"
    unexpected = {t: r for t, r in summary["skips"].items() if not any(k.lower() in r.lower() for k in EXPECTED_SKIP_REASONS)}
    assert not unexpected, f"skips the configuration does not explain: {unexpected}"
