"""Importing the settings only reads: it starts no server and writes nothing. The entry points
start the embedded servers first (jamono.embedded.embedded_services_ensure; `make run` end to
end: tests/test_stack.py), and a process started on its own without the URLs stops at once.

Each case runs in a fresh interpreter on an empty data folder, with none of the variables set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from jamono import embedded

ROOT = Path(__file__).resolve().parent.parent
UNSET = {"DATABASE_URL", "REDIS_URL", "JAMONO_SECRET_KEY", "DJANGO_SETTINGS_MODULE"}


@pytest.fixture
def data_dir(tmp_path):
    data_dir = tmp_path / "data"
    yield data_dir
    if data_dir.exists():  # a server started there (by a case, or by the bug guarded against)
        embedded.redis_stop(data_dir)
        embedded.postgres_stop(data_dir)


def python(data_dir: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {name: value for name, value in os.environ.items() if name not in UNSET}
    env.update(JAMONO_DATA_DIR=str(data_dir), **variables)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def processes_using(path: Path) -> list[str]:
    """Running processes whose command line names ``path`` (PostgreSQL's -D) or that work in
    it (Redis, which renames itself): daemonized servers are no child of their starter."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            command = (process / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(process / "cwd")
        except (OSError, UnicodeDecodeError):  # exited meanwhile, or not ours to read
            continue
        if str(path) in command or cwd.startswith(str(path)):
            found.append(command)
    return found


def test_importing_the_settings_starts_no_server_and_writes_nothing(data_dir):
    imported = python(data_dir, "-c", "import jamono.settings")

    assert imported.returncode == 0, imported.stderr
    assert processes_using(data_dir) == []
    assert not data_dir.exists()


def test_without_the_urls_the_database_refuses_at_first_use_not_at_import(data_dir):
    script = (
        "import django; from django.db import connection; django.setup(); "
        "connection.ensure_connection()"
    )

    used = python(data_dir, "-c", script, DJANGO_SETTINGS_MODULE="jamono.settings")

    assert used.returncode != 0
    assert "settings.DATABASES is improperly configured" in used.stderr
    assert processes_using(data_dir) == []


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "uvicorn", "jamono.asgi:application", "--port", "0"],
        ["-m", "celery", "-A", "jamono", "worker", "--pool", "solo", "-l", "WARNING"],
    ],
    ids=["uvicorn", "celery-worker"],
)
def test_a_process_started_alone_without_the_urls_stops_naming_them(data_dir, command):
    started = python(data_dir, *command)

    assert started.returncode != 0
    assert "set DATABASE_URL, REDIS_URL, JAMONO_SECRET_KEY" in started.stdout + started.stderr
    assert processes_using(data_dir) == []


def test_the_bootstrap_generates_the_secret_key_once_and_the_settings_read_it(data_dir):
    # URLs given: only the key and the static folder are the bootstrap's to provide.
    script = (
        "from jamono import embedded; embedded.embedded_services_ensure(); "
        "from django.conf import settings; print(settings.SECRET_KEY)"
    )
    urls = {"DATABASE_URL": "postgresql://unused/jamono", "REDIS_URL": "redis://unused:6379/0"}

    first = python(data_dir, "-c", script, DJANGO_SETTINGS_MODULE="jamono.settings", **urls)
    again = python(data_dir, "-c", script, DJANGO_SETTINGS_MODULE="jamono.settings", **urls)

    assert first.returncode == 0, first.stderr
    key_file = data_dir / "secret_key"
    assert first.stdout.strip() == key_file.read_text() == again.stdout.strip()
    assert len(key_file.read_text()) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert (data_dir / "staticfiles").is_dir()
    assert processes_using(data_dir) == []


def test_the_bootstrap_starts_postgres_with_its_shared_buffers_and_exports_the_urls(data_dir):
    script = (
        "import os; from jamono import embedded; "
        "services = embedded.embedded_services_ensure(); "
        "print(os.environ['DATABASE_URL'] == services.postgres.url, services.postgres.started_here,"
        " os.environ['REDIS_URL'] == services.redis.url, services.redis.started_here); "
        "print(os.environ['DATABASE_URL'])"
    )

    started = python(data_dir, "-c", script, EMBEDDED_POSTGRES_SHARED_BUFFERS_MB="160")

    assert started.returncode == 0, started.stderr
    exported, database_url = started.stdout.splitlines()
    assert exported == "True True True True"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SHOW shared_buffers").fetchone()[0] == "160MB"
