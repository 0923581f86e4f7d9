"""``cyclades-eventd`` as a program: Django-free, one-line startup errors, --once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EVENTD = Path(sys.executable).parent / "cyclades-eventd"
BASE_ENV = {"PATH": "/usr/bin:/bin", "CYCLADES_SECRET_KEY": "x" * 40, "CYCLADES_LOG_FORMAT": "text"}


def test_no_django_anywhere_in_the_import_graph(tmp_path):
    code = (
        "import sys, os\n"
        "import eventd.main, eventd.daemon, eventd.live, ganeti_hooks.hook, ganeti_hooks.install, logic.rapi\n"
        "from eventd.main import build_daemon\n"
        "from cyclades import conf\n"
        "s = conf.load()\n"
        "build_daemon(s)\n"  # with a RAPI host: imports logic.rapi for real
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'psycopg2'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    (tmp_path / "queue").mkdir()
    env = {
        **BASE_ENV,
        "CYCLADES_DATA_DIR": str(tmp_path),
        "CYCLADES_EVENTD_QUEUE_DIR": str(tmp_path / "queue"),
        "CYCLADES_EVENTD_CLUSTER_NAME": "c1",
        "CYCLADES_EVENTD_RAPI_HOST": "127.0.0.1",
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"CYCLADES_EVENTD_QUEUE_DIR": "/nonexistent/queue"}, "EVENTD_QUEUE_DIR: /nonexistent/queue is not a directory"),
        ({"CYCLADES_EVENTD_HEARTBEAT_INTERVAL": "often"}, "CYCLADES_EVENTD_HEARTBEAT_INTERVAL: invalid"),
        ({"CYCLADES_EVENTD_CLUSTER_NAME": "", "CYCLADES_EVENTD_SSCONF_DIR": "/nonexistent"}, "EVENTD_CLUSTER_NAME is empty"),
        (
            {"CYCLADES_EVENTD_RAPI_HOST": "h", "CYCLADES_EVENTD_RAPI_PASSWORD_FILE": "/nonexistent/pw"},
            "EVENTD_RAPI_PASSWORD_FILE",
        ),
    ],
)
def test_bad_start_is_one_line_and_exit_2(tmp_path, extra, message):
    (tmp_path / "queue").mkdir()
    env = {
        **BASE_ENV,
        "CYCLADES_DATA_DIR": str(tmp_path),
        "CYCLADES_EVENTD_QUEUE_DIR": str(tmp_path / "queue"),
        "CYCLADES_EVENTD_CLUSTER_NAME": "c1",
        **extra,
    }
    done = subprocess.run([str(EVENTD), "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("cyclades-eventd: error: ")
    assert message in done.stderr


def test_once_with_rabbitmq_unreachable_spools_and_exits_0(tmp_path):
    from tests.eventd.conftest import fresh_sample, sample_versions, write_job

    queue = tmp_path / "queue"
    queue.mkdir()
    write_job(queue, 2, fresh_sample(sample_versions(2)[-1]))
    env = {
        **BASE_ENV,
        "CYCLADES_DATA_DIR": str(tmp_path),
        "CYCLADES_EVENTD_QUEUE_DIR": str(queue),
        "CYCLADES_EVENTD_CLUSTER_NAME": "c1",
        "CYCLADES_EVENTD_SSCONF_DIR": str(tmp_path),
        "CYCLADES_EVENTD_NODE_NAME": "n1",
        "CYCLADES_BUS_URL": "amqp://guest:guest@127.0.0.1:1/",
    }
    (tmp_path / "ssconf_master_node").write_text("n1\n")
    done = subprocess.run([str(EVENTD), "--once"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(list((tmp_path / "spool").glob("*.msg"))) == 1
    assert (tmp_path / "eventd-state.sqlite3").exists()
