"""The same RAPI scenario against the simulator and the real Ganeti sandbox; shapes must agree."""

from __future__ import annotations

import pytest

from tests.contract import scenario
from tests.contract.shapes import differences

# TLS: OpenSSL checks the certificates against the real clock
pytestmark = pytest.mark.realclock

_recordings: dict[str, scenario.Recording] = {}


def recording(side) -> scenario.Recording:
    if side.name not in _recordings:
        _recordings[side.name] = scenario.run(side)
    return _recordings[side.name]


def test_scenario_behaves(side):
    rec = recording(side)
    assert rec.job_status["create"] == "success"
    assert rec.job_status["unknown_instance"] == "error"
    assert rec["error.404"][0] == 404
    assert rec["error.401"][0] == 401
    assert rec["error.400"][0] == 400
    assert rec["error.501"][0] == 501
    assert rec["status.after_reboot_stopped"] == "running"  # a hard reboot starts a stopped instance


@pytest.mark.ganeti
def test_simulator_matches_real_ganeti(sim_side, real_side):
    sim, real = recording(sim_side), recording(real_side)
    assert set(sim) == set(real)
    problems = []
    for name in sorted(real):
        if name.startswith(("jobfile.", "status.")):
            if sim[name] != real[name]:
                problems.append(f"{name}:\n  real {real[name]}\n  sim  {sim[name]}")
            continue
        for diff in differences(real[name], sim[name], name):
            problems.append(diff.replace("only in first", "only in real").replace("only in second", "only in sim"))
    assert not problems, "simulator differs from real Ganeti:\n" + "\n".join(problems)
