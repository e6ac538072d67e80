"""Work a request hands over to run once its response has been sent.

The ASGI handler (``jamono.asgi_handler``) opens a queue for each request it serves and runs
what was queued, in order, right after the response's last byte is sent, on the same pool of
request threads (so behind requests already waiting there). Anywhere else (Django's test
client, a worker, a management command) nothing is open, and ``after_response_or_now`` runs
the work at once: the caller cannot tell the difference, except in timing.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable

from django.db import close_old_connections

logger = logging.getLogger(__name__)

_queued: contextvars.ContextVar[list[Callable[[], object]] | None] = contextvars.ContextVar(
    "jamono_after_response", default=None
)


def after_response_open() -> None:
    """Called by the server, in the request's context, before Django handles the request."""
    _queued.set([])


def after_response_or_now(work: Callable[[], object]) -> None:
    queued = _queued.get()
    if queued is None:
        work()
    else:
        queued.append(work)


def after_response_run(context: contextvars.Context) -> None:
    """Called by the server once the response is sent, with the request's context. Each piece
    of work runs even if an earlier one failed; failures are logged, not raised."""
    for work in context.get(_queued) or ():
        try:
            context.run(work)
        except Exception:
            logger.exception("Work queued to run after a response failed")
    # Work that used the database gives its connection back to the pool.
    context.run(close_old_connections)


def after_response_pending(context: contextvars.Context) -> bool:
    return bool(context.get(_queued))
