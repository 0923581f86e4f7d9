"""tempest's compute image tests (``tempest.api.compute.images``: snapshots with createImage) and the other
compute tests that make images (createBackup, a boot refused by an image's min_ram), against the whole stack.

Unmodified tempest with the image service on and ``[compute-feature-enabled] snapshot = True``; the
snapshots go through Ganeti's backup export and our OS definition's ``export`` script
(:mod:`logic.image_snapshot`), so the definition is installed first. Zero failures are
required; every skip is printed with its reason and must be one the configuration asks
for: the Nova image proxy tests stop at microversion 2.35 while tempest asks for the
advertised maximum, pause/suspend are not offered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import services
from tests.tempest import run_tempest
from tests.tempest import stack as stackmod

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.ganeti, pytest.mark.slow, pytest.mark.timeout(3600)]

REGEX = (
    r"^tempest\.api\.compute\.(images\.|"
    r"flavors\.test_flavors_negative\.FlavorsV2NegativeTest\.test_boot_with_low_ram|"
    r"servers\.test_server_actions\.(ServerActionsTestOtherB|ServersAaction247Test)\.test_create_backup)"
)
EXPECTED_SKIP_REASONS = (
    "microversion range",  # the proxy tests (max 2.35) against the advertised maximum
    "pause is not available",
    "suspend is not available",
    "not available",
)


# what run_tempest needs for these tests (the compute tree passes the same)
SNAPSHOT_ARGS = ["--glance", "--enable-feature", "snapshot"]


def install_os_definition() -> None:
    """Our Ganeti OS definition on the sandbox's node: its export script uploads the snapshots."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "cyclades.settings", "PYTHONPATH": str(stackmod.ROOT)}
    install = subprocess.run([str(Path(sys.executable).parent / "cyclades-manage"), "ganeti-os-install"], env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert install.returncode == 0, install.stderr


def test_compute_image_tests_pass_with_snapshots(capsys):
    if found := stackmod.problems():
        services.missing("the whole stack", "; ".join(found))
    install_os_definition()
    # its own workspace (other tempest selections may run at the same time), kept for reading the output
    workspace = Path(tempfile.gettempdir()) / f"tempest-compute-images-{os.getpid()}"
    code = run_tempest.main([*SNAPSHOT_ARGS, "--regex", REGEX, "--workspace", str(workspace)])
    summary = json.loads((workspace / "summary.json").read_text())
    with capsys.disabled():
        print("\n" + run_tempest.report(summary))
    assert summary["failed"] == 0, summary["failures"]
    assert code == 0
    assert summary["passed"] >= 10, "the image set ran far fewer tests than it holds"
    unexpected = run_tempest.unexplained_skips(summary, EXPECTED_SKIP_REASONS)
    assert not unexpected, f"skips the configuration does not explain: {unexpected}"
