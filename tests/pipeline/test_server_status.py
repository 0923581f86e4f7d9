"""The OpenStack status derived from operstate + task (no database needed)."""

import pytest

from logic.enums import OperState, ServerTask
from logic.server_status import derive_status, power_state, task_state


@pytest.mark.parametrize(
    ("operstate", "task", "extra", "status"),
    [
        (OperState.BUILD, ServerTask.BUILD, {}, "BUILD"),
        (OperState.STARTED, None, {}, "ACTIVE"),
        (OperState.STOPPED, None, {}, "SHUTOFF"),
        (OperState.STARTED, ServerTask.REBOOT_SOFT, {}, "REBOOT"),
        (OperState.STARTED, ServerTask.REBOOT_HARD, {}, "HARD_REBOOT"),
        (OperState.STOPPED, ServerTask.RESIZE, {}, "RESIZE"),
        (OperState.STOPPED, None, {"awaiting_resize_confirm": True}, "VERIFY_RESIZE"),
        (OperState.STARTED, ServerTask.STOP, {}, "ACTIVE"),
        (OperState.STOPPED, ServerTask.START, {}, "SHUTOFF"),
        (OperState.ERROR, None, {}, "ERROR"),
        (OperState.ERROR, ServerTask.DESTROY, {}, "ERROR"),
        (OperState.DESTROYED, None, {}, "DELETED"),
        (OperState.STARTED, None, {"deleted": True}, "DELETED"),
        (OperState.BUILD, ServerTask.REBOOT_HARD, {}, "BUILD"),
    ],
)
def test_status(operstate, task, extra, status):
    assert derive_status(operstate, task, **extra) == status


def test_task_and_power_state():
    assert task_state(None) is None
    assert task_state(ServerTask.STOP) == "powering-off"
    assert task_state(ServerTask.REBOOT_HARD) == "rebooting_hard"
    assert power_state(OperState.STARTED) == 1
    assert power_state(OperState.STOPPED) == 4
    assert power_state(OperState.BUILD) == 0
