from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import tenant_make

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = [
    "tests.doubles.llm_fixtures",
    "tests.doubles.slack_fixtures",
    "tests.doubles.jira_fixtures",
]


@pytest.fixture(autouse=True)
def _public_schema_after_each_test():
    """A test that leaves the connection in a tenant schema must not leak it to the next."""
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_a(db):
    return tenant_make(name="Company A")


@pytest.fixture
def tenant_b(db):
    return tenant_make(name="Company B")


def child_process_environment(**overrides: str) -> dict[str, str]:
    """The environment of a project process (manage.py, a Celery worker) started by a test:
    the test database and Redis, the project's own settings module."""
    db = settings.DATABASES["default"]
    host = db["HOST"] or db["OPTIONS"].get("host", "")
    port = f"&port={db['PORT']}" if db["PORT"] else ""
    return {
        **os.environ,
        "DATABASE_URL": (
            f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@/{db['NAME']}?host={host}{port}"
        ),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "jamono.settings",
        **overrides,
    }


@pytest.fixture
def manage_py():
    """Run ``manage.py`` in a separate process against the test database, as a person would."""
    import subprocess

    env = child_process_environment()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def pytest_sessionfinish(session, exitstatus):
    """Stop the embedded servers the test run started (not ones a developer left running)."""
    if hasattr(session.config, "workerinput"):
        return  # xdist workers leave it to the controller
    from django.db import connections

    from tests.settings import embedded_services

    connections.close_all()
    embedded_services.stop_started_here()
