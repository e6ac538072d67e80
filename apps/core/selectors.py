"""Read-only checks of the services Jamono depends on."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection

HEALTH_TIMEOUT_S = 2


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "unavailable"
    return "ok"


def broker_status() -> str:
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=HEALTH_TIMEOUT_S,
            socket_timeout=HEALTH_TIMEOUT_S,
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception:
        return "unavailable"
    return "ok"


def broker_queue_depth(queue: str | None = None) -> int | None:
    """Tasks waiting in the Celery queue (None when the broker does not answer)."""
    try:
        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL,
            socket_connect_timeout=HEALTH_TIMEOUT_S,
            socket_timeout=HEALTH_TIMEOUT_S,
        )
        try:
            return int(client.llen(queue or settings.CELERY_TASK_DEFAULT_QUEUE))
        finally:
            client.close()
    except Exception:
        return None
