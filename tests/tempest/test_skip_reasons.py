"""The rule every tempest selection applies to skips: each needs a reason the configuration explains."""

from __future__ import annotations

from tests.tempest import run_tempest


def test_only_skips_with_none_of_the_reasons_are_unexplained():
    summary = {
        "skips": {
            "a.Pause": "Pause is not available.",
            "b.Volume": "Skipped because the VOLUME service is not available",
            "c.Odd": "Something nobody configured",
        }
    }
    assert run_tempest.unexplained_skips(summary, ("not available", "Volume")) == {"c.Odd": "Something nobody configured"}
    assert run_tempest.unexplained_skips(summary, ()) == summary["skips"]
    assert run_tempest.unexplained_skips({"skips": {}}, ("x",)) == {}
