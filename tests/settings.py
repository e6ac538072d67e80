"""Test settings: the real stack on its own embedded servers (never the data of `make run`).

pytest-django imports this module before any conftest or plugin named in them runs, so this is
where the test session starts (or attaches to) its embedded servers, as manage.py does for a
command; tests/conftest.py stops the ones started here when the session ends. xdist workers
inherit the URLs exported by the controller and attach to its servers.
"""

import os
import uuid
from pathlib import Path

os.environ.setdefault(
    "JAMONO_DATA_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "test")
)

from jamono import embedded

# Lowercase: kept for tests/conftest.py, not a Django setting.
embedded_services = embedded.embedded_services_ensure()

from jamono.settings import *  # noqa: E402, F403

# Each test process consumes only its own queue, even if an old message lingers in Redis.
# A worker process a test starts is given the test's queue (JAMONO_TEST_CELERY_QUEUE).
CELERY_TASK_DEFAULT_QUEUE = (
    os.environ.get("JAMONO_TEST_CELERY_QUEUE") or f"jamono-test-{uuid.uuid4().hex[:8]}"
)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The routed queues (ingest, housekeeping) are named after it: this run's own as well.
TASK_QUEUES, CELERY_TASK_QUEUES, CELERY_TASK_ROUTES = celery_routing(  # noqa: F405
    CELERY_TASK_DEFAULT_QUEUE
)
