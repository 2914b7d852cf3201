"""`make run`: one command from a fresh clone to a working Assay.

Starts the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set, migrates,
starts the fake Lever for the demo (FAKE_LEVER_PORT, default 8001), loads the catalog and the demo
org (with a sandbox Lever connection to that fake), then runs the web server (gunicorn +
whitenoise, or Django's runserver with DEV=1), a Celery worker and beat, waits for /readyz, and
prints the URLs and the demo login. Ctrl-C (or any child dying) stops everything it started,
servers included.

A second `make run` in the same checkout says so and exits non-zero; a lock left by a killed run
is released by the kernel, and the servers it left behind are adopted (config/embedded.py).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from .embedded import DATA_DIR, ServiceError, check_reachable, services
from .env import BASE_DIR

PY = sys.executable
LOCK_FILE = DATA_DIR / "run.lock"


def _say(message: str) -> None:
    print(f"assay: {message}", flush=True)


def _lock():
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    handle = open(LOCK_FILE, "a+")  # noqa: SIM115 - held for the life of the process
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        _say(f"Assay is already running from this checkout (pid {pid}); stop it with Ctrl-C "
             "in its terminal first.")
        sys.exit(1)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _manage(env: dict, *args: str) -> None:
    result = subprocess.run([PY, "manage.py", *args], cwd=BASE_DIR, env=env)
    if result.returncode:
        raise SystemExit(f"assay: `manage.py {' '.join(args)}` failed (exit {result.returncode})")


def _has_command(env: dict, name: str) -> bool:
    out = subprocess.run([PY, "manage.py", "help", "--commands"], cwd=BASE_DIR, env=env,
                         capture_output=True, text=True)
    return name in out.stdout.split()


def _start_fake_lever(env: dict, procs: dict) -> str | None:
    """Start the demo's fake Lever; return its URL, or None (with a warning) if it cannot run."""
    port = env["FAKE_LEVER_PORT"]
    url = f"http://127.0.0.1:{port}"
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=0.5):
            taken = True
    except (OSError, ValueError):
        taken = False
    if taken:
        _say(f"port {port} is taken, so the fake Lever cannot start there (set FAKE_LEVER_PORT "
             "to a free port); the demo Lever connection stays pending")
        return None
    proc = subprocess.Popen([PY, "manage.py", "run_fake_ats", "lever", "--port", port],
                            cwd=BASE_DIR, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_control/state", timeout=2) as response:
                if response.status == 200:
                    procs["fake-lever"] = proc
                    return url
        except OSError:
            pass
        time.sleep(0.3)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
    _say(f"the fake Lever did not start on port {port} (is it taken? set FAKE_LEVER_PORT); "
         "the demo Lever connection stays pending")
    return None


def _wait_ready(url: str, procs: dict, timeout: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs.values()):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(1.0)
    return False


def _stop(procs: dict) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for name, proc in procs.items():
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(f"{name} did not stop in time; killing it")
            proc.kill()
            proc.wait()


def run() -> int:
    logging.basicConfig(level=logging.INFO, format="assay: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    started = time.monotonic()
    lock = _lock()  # noqa: F841 - released when the process exits
    port = os.environ.get("PORT", "8000")
    embedded_db = not os.environ.get("DATABASE_URL")
    procs: dict[str, subprocess.Popen] = {}
    stopping = False

    def _on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        with services() as environ:
            env = dict(environ)
            env.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
            env.setdefault("FAKE_LEVER_PORT", "8001")
            env.setdefault("FAKE_LEVER_URL", f"http://127.0.0.1:{env['FAKE_LEVER_PORT']}")
            if embedded_db:
                # A local single-box run: sign-up need not wait for a verification email.
                env.setdefault("ACCOUNT_EMAIL_VERIFICATION", "optional")
            check_reachable(env)
            _say("migrating the database ...")
            _manage(env, "migrate", "--noinput", "-v", "0")
            _manage(env, "collectstatic", "--noinput", "-v", "0")
            if _has_command(env, "load_catalog"):
                _manage(env, "load_catalog")
            fake_lever = _start_fake_lever(env, procs)
            _manage(env, "seed_demo")
            if os.environ.get("DEV") == "1":
                web = [PY, "manage.py", "runserver", f"127.0.0.1:{port}"]
            else:
                web = [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                       "--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--access-logfile",
                       "-", "--graceful-timeout", "10"]
            procs["web"] = subprocess.Popen(web, cwd=BASE_DIR, env=env)
            procs["worker"] = subprocess.Popen(
                [PY, "-m", "celery", "-A", "config", "worker", "-Q", "default,integrations,email",
                 "--concurrency", os.environ.get("WORKER_CONCURRENCY", "2"), "-l", "info"],
                cwd=BASE_DIR, env=env)
            procs["beat"] = subprocess.Popen(
                [PY, "-m", "celery", "-A", "config", "beat", "-l", "info", "-s",
                 str(DATA_DIR / "celerybeat-schedule")], cwd=BASE_DIR, env=env)
            base = f"http://127.0.0.1:{port}"
            if not _wait_ready(f"{base}/readyz", procs):
                _say(f"Assay did not become ready; see the log above ({base}/readyz)")
                return 1
            from tenants.demo import DEMO_EMAIL, DEMO_PASSWORD

            fake_line = (f"{fake_lever}/  (move Ada Lovelace to Phone Screen; README: "
                         "walk-through)" if fake_lever else "not running")

            print(f"""
  Assay is ready in {time.monotonic() - started:.1f}s
    Console:    {base}/admin/
    Sign in:    {DEMO_EMAIL} / {DEMO_PASSWORD}
    Health:     {base}/healthz   {base}/readyz
    Fake Lever: {fake_line}
    Database:   {'embedded PostgreSQL in .data/pg' if embedded_db else 'DATABASE_URL'}
  Press Ctrl-C to stop everything.
""", flush=True)
            while not stopping:
                dead = [name for name, p in procs.items() if p.poll() is not None]
                if dead:
                    _say(f"{', '.join(dead)} exited; stopping everything")
                    return 1
                time.sleep(0.5)
            _say("stopping ...")
            return 0
    except ServiceError as exc:
        _say(str(exc))
        return 1
    finally:
        _stop(procs)


if __name__ == "__main__":
    sys.exit(run())
