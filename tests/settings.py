"""Test settings: the real stack on its own embedded servers (never the data of `make run`)."""

import os
import uuid
from pathlib import Path

os.environ.setdefault(
    "JAMONO_DATA_DIR", str(Path(__file__).resolve().parent.parent / ".data" / "test")
)

from jamono.settings import *  # noqa: F403

# Each test process consumes only its own queue, even if an old message lingers in Redis.
CELERY_TASK_DEFAULT_QUEUE = f"jamono-test-{uuid.uuid4().hex[:8]}"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
