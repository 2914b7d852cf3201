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


# -- the demo's fake ATSes ------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _state(url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{url}/_control/state", timeout=5) as response:
        return json.loads(response.read())


def test_a_taken_port_is_reported_with_the_setting_to_change(capsys):
    import socket

    from config import launcher

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        procs = {}
        assert launcher._start_fake({"FAKE_ASHBY_PORT": port}, procs, "ashby") is None
    assert procs == {}
    out = capsys.readouterr().out
    assert f"port {port} is taken" in out and "set FAKE_ASHBY_PORT" in out


def test_a_partner_fake_starts_and_gets_the_demo_key(tmp_path, monkeypatch, capsys):
    import json

    from config import launcher

    port = str(_free_port())
    env = {**os.environ, "FAKE_WORKABLE_PORT": port}
    procs = {}
    try:
        url = launcher._start_fake(env, procs, "workable", "--partner-url",
                                   "http://127.0.0.1:1/integrations/workable")
        assert url == f"http://127.0.0.1:{port}" and "fake-workable" in procs
        keys = tmp_path / "demo_partner_keys.json"
        keys.write_text(json.dumps({"workable": {"key": "assay_pk_demo123", "connection": "c"}}))
        monkeypatch.setattr(launcher, "PARTNER_KEYS_FILE", keys)
        launcher._configure_partner_fakes({"workable": url, "greenhouse": None})
        config = _state(url)["config"]
        assert config["provider_token"] == "assay_pk_demo123"
        assert config["partner_url"] == "http://127.0.0.1:1/integrations/workable"
        keys.write_text("{}")
        launcher._configure_partner_fakes({"workable": url})
        assert "no demo Workable key" in capsys.readouterr().out
    finally:
        launcher._stop(procs)


def test_the_banner_lists_each_fake_page_or_says_it_is_not_running():
    from config import launcher

    lines = launcher._fake_lines({"lever": "http://127.0.0.1:8001", "greenhouse": None,
                                  "ashby": "http://127.0.0.1:8003"}).splitlines()
    assert lines[0].split() == ["Fake", "Lever:", "http://127.0.0.1:8001/", "(move", "Ada",
                                "Lovelace", "to", "Phone", "Screen)"]
    assert lines[1].split() == ["Fake", "Greenhouse:", "not", "running"]
    assert "http://127.0.0.1:8003/" in lines[2] and "assessment.list" in lines[2]
