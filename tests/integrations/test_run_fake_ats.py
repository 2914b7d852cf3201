"""`manage.py run_fake_ats`: each fake ATS runs as its own process until stopped."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from integrations.providers.lever.fake import FAKE_API_KEY
from tests.conftest import ROOT, subprocess_env


def run(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", "run_fake_ats", *args], cwd=ROOT,
                            env=subprocess_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def first_line_matching(proc: subprocess.Popen, pattern: str, timeout: float = 30) -> re.Match:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    pytest.fail(f"no line matching {pattern!r} within {timeout}s:\n{''.join(seen)}")


def test_run_fake_ats_lever_serves_the_api_until_stopped():
    proc = run("lever", "--port", "0")
    try:
        url = first_line_matching(proc, r"Fake Lever on (http://127\.0\.0\.1:\d+)").group(1)
        stages = requests.get(f"{url}/v1/stages", auth=(FAKE_API_KEY, ""), timeout=5)
        assert stages.status_code == 200
        assert "Phone Screen" in [s["text"] for s in stages.json()["data"]]
        assert requests.get(f"{url}/v1/stages", timeout=5).status_code == 401
        assert "Ada Lovelace" in requests.get(f"{url}/", timeout=5).text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("ats", ["greenhouse", "ashby", "workable"])
def test_run_fake_ats_runs_each_partner_fake_until_stopped(ats):
    proc = run(ats, "--port", "0", "--partner-url", "http://127.0.0.1:9/integrations/" + ats)
    try:
        url = first_line_matching(proc, rf"Fake {ats.title()} on (http://127\.0\.0\.1:\d+)")
        state = requests.get(f"{url.group(1)}/_control/state", timeout=5)
        assert state.status_code == 200
        assert state.json()["config"]["partner_url"] == f"http://127.0.0.1:9/integrations/{ats}"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_unknown_ats_is_refused():
    proc = run("bamboo")
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "unknown ATS" in output
