"""`make run`: one command from a fresh clone to a working Assay.

Starts the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set, migrates,
starts the fake ATSes for the demo (Lever on FAKE_LEVER_PORT, default 8001; Greenhouse, Ashby,
Workable on FAKE_GREENHOUSE_PORT / FAKE_ASHBY_PORT / FAKE_WORKABLE_PORT, 8002-8004), loads the
catalog and the demo org (with a sandbox connection to each fake), hands each partner fake the
demo org's partner key (kept by seed_demo in .data/demo_partner_keys.json), then runs the web
server (gunicorn + whitenoise, or Django's runserver with DEV=1), a Celery worker and beat, waits
for /readyz, and prints the URLs and the demo login. Ctrl-C (or any child dying) stops
everything it started, servers included. A fake that cannot start (its port is taken) is
reported and skipped: the rest of the demo still runs.

A second `make run` in the same checkout says so and exits non-zero; a lock left by a killed run
is released by the kernel, and the servers it left behind are adopted (config/embedded.py).
"""

from __future__ import annotations

import fcntl
import json
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
PARTNER_KEYS_FILE = DATA_DIR / "demo_partner_keys.json"
# The partner fakes: default port, and the /_control/configure setting that takes the key the
# fake presents to us (the demo connection's partner key).
PARTNER_FAKES = {"greenhouse": ("8002", "key"), "ashby": ("8003", "partner_key"),
                 "workable": ("8004", "provider_token")}
# Gunicorn's default access log without %(u)s: that is the Basic username, which for Greenhouse
# and Ashby is the partner key itself (keys must never reach a log).
ACCESS_LOG_FORMAT = '%(h)s - - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
# What to do on each fake's page to see a result arrive (the banner).
FAKE_HINTS = {
    "lever": "move Ada Lovelace to Phone Screen",
    "greenhouse": "List tests, then Send a test",
    "ashby": "assessment.list, then Start",
    "workable": "List tests, then Send",
}


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


def _port_taken(port: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


def _start_fake(env: dict, procs: dict, ats: str, *extra: str) -> str | None:
    """Start the demo's fake `ats` on FAKE_<ATS>_PORT; return its URL, or None (with a
    warning saying what to set) when it cannot run."""
    name, variable = ats.title(), f"FAKE_{ats.upper()}_PORT"
    port = env[variable]
    url = f"http://127.0.0.1:{port}"
    consequence = f"the demo {name} connection stays {'pending' if ats == 'lever' else 'idle'}"
    if _port_taken(port):
        _say(f"port {port} is taken, so the fake {name} cannot start there (set {variable} "
             f"to a free port); {consequence}")
        return None
    proc = subprocess.Popen([PY, "manage.py", "run_fake_ats", ats, "--port", port, *extra],
                            cwd=BASE_DIR, env=env)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_control/state", timeout=2) as response:
                if response.status == 200:
                    procs[f"fake-{ats}"] = proc
                    return url
        except OSError:
            pass
        time.sleep(0.3)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
    _say(f"the fake {name} did not start on port {port} (is it taken? set {variable}); "
         f"{consequence}")
    return None


def _start_fake_lever(env: dict, procs: dict) -> str | None:
    return _start_fake(env, procs, "lever")


def _start_partner_fakes(env: dict, procs: dict) -> dict[str, str | None]:
    """Start the Greenhouse, Ashby and Workable fakes, each calling <site>/integrations/<ats>."""
    return {ats: _start_fake(env, procs, ats, "--partner-url",
                             f"{env['SITE_URL']}/integrations/{ats}")
            for ats in PARTNER_FAKES}


def _configure_partner_fakes(fakes: dict[str, str | None]) -> None:
    """Hand each running partner fake the demo connection's key (seed_demo kept it in
    PARTNER_KEYS_FILE), so its calls authenticate; say so when one cannot be configured."""
    try:
        keys = json.loads(PARTNER_KEYS_FILE.read_text())
    except (OSError, ValueError):
        keys = {}
    for ats, url in fakes.items():
        raw = (keys.get(ats) or {}).get("key") if isinstance(keys, dict) else None
        if url is None:
            continue
        if not raw:
            _say(f"no demo {ats.title()} key in {PARTNER_KEYS_FILE} (see seed_demo's output); "
                 f"the fake {ats.title()} keeps its default key, which Assay refuses")
            continue
        body = json.dumps({PARTNER_FAKES[ats][1]: raw}).encode()
        request = urllib.request.Request(f"{url}/_control/configure", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5):
                pass
        except OSError as exc:
            _say(f"the fake {ats.title()} at {url} refused its demo key ({exc}); its calls "
                 "will be refused")


def _line(label: str, value: str) -> str:
    return f"    {label + ':':<18}{value}"


def _fake_lines(fakes: dict[str, str | None]) -> str:
    """The banner's lines for the fakes: each page's URL and what to do there."""
    return "\n".join(_line(f"Fake {ats.title()}",
                           f"{url}/  ({FAKE_HINTS[ats]})" if url else "not running")
                     for ats, url in fakes.items())


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
            for ats, (default_port, _) in PARTNER_FAKES.items():
                env.setdefault(f"FAKE_{ats.upper()}_PORT", default_port)
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
            partner_fakes = _start_partner_fakes(env, procs)
            _manage(env, "seed_demo", "--partner-keys-file", str(PARTNER_KEYS_FILE))
            _configure_partner_fakes(partner_fakes)
            if os.environ.get("DEV") == "1":
                web = [PY, "manage.py", "runserver", f"127.0.0.1:{port}"]
            else:
                web = [PY, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
                       "--workers", os.environ.get("WEB_CONCURRENCY", "2"), "--access-logfile",
                       "-", "--access-logformat", ACCESS_LOG_FORMAT, "--graceful-timeout", "10"]
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

            print(f"""
  Assay is ready in {time.monotonic() - started:.1f}s
{_line("Console", f"{base}/admin/")}
{_line("Sign in", f"{DEMO_EMAIL} / {DEMO_PASSWORD}")}
{_line("Health", f"{base}/healthz   {base}/readyz")}
{_fake_lines({"lever": fake_lever, **partner_fakes})}
{_line("Database", "embedded PostgreSQL in .data/pg" if embedded_db else "DATABASE_URL")}
  The README's walk-through says what to click on each fake's page.
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
