"""`make run` refuses to start twice in one checkout, and recovers a killed run's lock."""

import fcntl
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _launch(data_dir):
    env = {**os.environ, "ASSAY_DATA_DIR": str(data_dir),
           # An unreachable database makes a launch that got past the lock stop at once.
           "DATABASE_URL": "postgres://u@127.0.0.1:1/x", "REDIS_URL": "redis://127.0.0.1:1/0"}
    return subprocess.run([sys.executable, "-m", "config.launcher"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_a_second_run_says_so_and_exits_non_zero(tmp_path):
    with open(tmp_path / "run.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        result = _launch(tmp_path)
    assert result.returncode == 1
    assert "already running" in result.stdout and "4242" in result.stdout


def test_a_stale_lock_from_a_killed_run_is_recovered(tmp_path):
    (tmp_path / "run.lock").write_text("99999")  # written by a run that no longer exists
    result = _launch(tmp_path)
    assert "already running" not in result.stdout
    assert "cannot reach the database (DATABASE_URL)" in result.stdout
    assert result.returncode == 1
